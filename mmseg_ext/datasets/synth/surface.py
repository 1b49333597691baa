"""Wet roads and snow: conditions that change the surfaces, from depth and labels.

Wet road:

* darker albedo: a water film fills the pores of the asphalt and light is trapped by
  total internal reflection at the film surface (Lekner & Dorf, "Why some things are
  darker when wet", Applied Optics 1988): the diffuse part is scaled by ``a(S)``
  (sidewalks, less wet, by ``sqrt(a)``);
* specular reflection of the scene on the road: the road is a horizontal mirror, so
  a point ``(X, Y, Z)`` is seen reflected where its mirror image ``(X, -Y, Z)``
  projects, ``y' = y + 2 f Y / Z`` (sky directions: ``y' = 2 c_y - y``); a reflected
  point is drawn where the road is nearer than the point, nearest point first;
* the reflectance follows Fresnel at the viewing angle (Schlick's approximation
  ``R = R0 + (1 - R0) (1 - cos theta)^5``, ``R0 = 0.02`` for water, ``cos theta = h /
  d`` for a road point at distance ``d`` seen from height ``h``), grazing (far) road
  reflects most; the film covers the share ``w(S)`` of the texture, puddles (a
  world-space noise field, share ``p(S)``) reflect fully and sharply, the thin film
  elsewhere through the glossy, vertically smeared lobe of a rough surface.

Snow:

* cover on horizontal surfaces: ground classes (road, sidewalk, terrain) are covered
  where a world-space noise field is below the cover share ``c(S)`` (the road, kept
  clearer by traffic, at ``0.8 c``); the tops of vehicles, vegetation, walls, fences
  and buildings (the pixels below an upper boundary with a farther or sky pixel
  above) carry a layer of thickness ``t(S)`` m, i.e. ``f t / Z`` pixels;
* snow radiance: white, shaded by the scene's own illumination (cast shadows stay);
* falling flakes: particles in the frustum (:func:`.weather.particle_alpha`:
  projected size ``f D / Z``, defocus by the thin-lens circle of confusion, streaks
  from the fall speed ~1 m/s and the car's motion);
* the veil of the snowfall: Koschmieder's law over the distance from the camera with
  ``beta = 2.996 / V(S)``.
"""
import numpy as np

from .labels import TRAIN_ID

__all__ = ['WET_SEVERITY', 'SNOW_SEVERITY', 'render_wet', 'render_snow', 'mirror_reflection',
           'world_noise', 'snow_cover', 'water_film_depth', 'rain_wetness',
           'WET_FILM_DEPTHS']

#: Severity 1..5 -> (albedo factor ``a``, film share ``w``, puddle share ``p``).
WET_SEVERITY = {1: (0.85, 0.3, 0.0), 2: (0.75, 0.5, 0.05), 3: (0.65, 0.7, 0.12),
                4: (0.55, 0.85, 0.22), 5: (0.45, 1.0, 0.35)}
#: Severity 1..5 -> (cover share ``c``, layer thickness ``t`` in m, flakes per m^3,
#: snowfall visibility ``V`` in m).
#: Upper water film depths (mm) of wet severities 1..4 (5 above the last): a damp
#: road whose texture still drains the water (1), a continuous thin film (2, 3), a
#: film over the texture peaks (4), standing water with puddles (5).
WET_FILM_DEPTHS = (0.1, 0.3, 0.6, 1.0)
SNOW_SEVERITY = {1: (0.3, 0.03, 100, 3000), 2: (0.5, 0.05, 250, 1500),
                 3: (0.7, 0.08, 500, 800), 4: (0.85, 0.12, 900, 400),
                 5: (0.97, 0.16, 1500, 250)}
_T = TRAIN_ID
_GROUND = (_T['road'], _T['sidewalk'], _T['terrain'])
_TOPS = (_T['car'], _T['truck'], _T['bus'], _T['train'], _T['vegetation'], _T['wall'],
         _T['fence'], _T['building'])


def world_noise(rng, points, scale_x=0.8, scale_z=1.6, grid=64):
    """Smooth noise, uniformly distributed in [0, 1] (so ``noise < s`` covers the
    share ``s``), sampled at the ground coordinates ``(X, Z)`` of the points
    (perspective-correct patches of ``scale`` metres), wrapped."""
    import cv2
    tex = cv2.GaussianBlur(rng.random((grid, grid)).astype(np.float32), (0, 0), 1.5)
    ranks = np.empty(tex.size, np.float32)
    ranks[np.argsort(tex, axis=None)] = (np.arange(tex.size) + 0.5) / tex.size
    tex = ranks.reshape(tex.shape)
    pts = np.where(np.isfinite(points), points, 0.0)
    mx = np.mod(pts[..., 0] / scale_x, grid).astype(np.float32)
    my = np.mod(pts[..., 2] / scale_z, grid).astype(np.float32)
    return cv2.remap(tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)


def mirror_reflection(x, label, depth, camera):
    """The scene mirrored in the road plane, on road pixels.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``reflection`` (H, W, 3) and ``valid`` (H, W)
        bool, True on road pixels where a mirrored point lands.
    """
    h, w = depth.shape
    ys, xs = np.mgrid[0:h, 0:w]
    ground = np.isin(label, _GROUND)
    sky = ~np.isfinite(depth)
    height = camera.height - (ys + 0.5 - camera.cy) / camera.f * np.where(sky, 0, depth)
    y_m = np.where(sky, 2 * camera.cy - (ys + 0.5),
                   ys + 0.5 + 2 * camera.f * height / np.where(sky, 1.0, depth))
    src = ~ground & (sky | (height > 0))
    yt = np.floor(y_m).astype(np.int64)
    ok = src & (yt >= 0) & (yt < h)
    sy, sx, ty = ys[ok], xs[ok], yt[ok]
    road = label[ty, sx] == _T['road']
    z_src = np.where(sky, np.inf, depth)[sy, sx]
    seen = road & (depth[ty, sx] < z_src)
    sy, sx, ty, z_src = sy[seen], sx[seen], ty[seen], z_src[seen]
    target = ty * w + sx
    order = np.lexsort((z_src, target))  # nearest source first per target pixel
    target, first = np.unique(target[order], return_index=True)
    pick = order[first]
    refl = np.zeros_like(x)
    valid = np.zeros((h, w), bool)
    refl.reshape(-1, 3)[target] = x[sy[pick], sx[pick]]
    valid.ravel()[target] = True
    return refl, valid


def _schlick(cos_t, r0=0.02):
    return r0 + (1.0 - r0) * (1.0 - cos_t) ** 5


def water_film_depth(rate, texture_depth=0.5, drainage_length=7.3, cross_slope=2.0):
    """Water film depth (mm) on a road under rain of ``rate`` mm/h.

    The regression of Gallaway et al. ("Pavement and geometric design criteria for
    minimizing hydroplaning", FHWA-RD-79-31, 1979) in its metric form as quoted by
    road-drainage guides, ``WFD = 0.046 T^0.11 L^0.43 I^0.59 / S^0.42 - T`` (T texture
    depth in mm, L drainage path length in m, I rain intensity in mm/h, S cross
    slope in %), clipped at 0 (the texture holds the water).

    Args:
        rate (float | np.ndarray): Rain rate in mm/h.
        texture_depth (float): Mean texture depth of the asphalt (mm). Default: 0.5.
        drainage_length (float): Flow path from the crown to the kerb (m): two
            3.65 m lanes. Default: 7.3.
        cross_slope (float): Cross slope of the road (%). Default: 2.0.

    Returns:
        float | np.ndarray: film depth above the texture in mm.
    """
    rate = np.asarray(rate, np.float64)
    wfd = (0.046 * texture_depth ** 0.11 * drainage_length ** 0.43 * rate ** 0.59 /
           cross_slope ** 0.42 - texture_depth)
    return np.maximum(wfd, 0.0) if wfd.ndim else float(max(wfd, 0.0))


def rain_wetness(rate):
    """Wet-road severity 1..5 (:data:`WET_SEVERITY`) of a road under rain of ``rate``
    mm/h: the class of :func:`water_film_depth` in :data:`WET_FILM_DEPTHS` (25 mm/h
    -> 1 damp, 50 -> 2, 75 -> 3, 100 -> 4, 200 -> 5 flooded)."""
    if rate <= 0:
        raise ValueError(f'rain rate must be > 0 mm/h, got {rate}')
    return 1 + int(np.searchsorted(WET_FILM_DEPTHS, water_film_depth(rate), side='right'))


def render_wet(img, label, depth, camera, severity, rng):
    """Wet-road version of an image at ``severity`` 1..5 (``WET_SEVERITY``).

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB image.
        label (np.ndarray): (H, W) trainIds.
        depth (np.ndarray): (H, W) depth along the optical axis (m, ``inf`` = sky).
        camera (Camera): The scene's camera.
        severity (int): 1 (damp) .. 5 (flooded with puddles).
        rng (np.random.Generator): Puddle and film layout.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB; only road and sidewalk pixels change.
    """
    import cv2

    from .camera import ray_distance
    from .lens import check_severity
    from .weather import _check_depth, _to_float, _to_uint8
    _check_depth(img, depth)
    albedo, film, puddle_share = WET_SEVERITY[check_severity(severity)]
    x = _to_float(img)
    road = label == _T['road']
    out = x.copy()
    out[label == _T['sidewalk']] *= np.sqrt(albedo)
    refl, valid = mirror_reflection(x, label, depth, camera)
    glossy = cv2.GaussianBlur(refl, (0, 0), sigmaX=0.5, sigmaY=max(camera.f / 60.0, 1.0))
    glossy_valid = cv2.GaussianBlur(valid.astype(np.float32), (0, 0), sigmaX=0.5,
                                    sigmaY=max(camera.f / 60.0, 1.0))
    glossy = glossy / np.maximum(glossy_valid, 1e-3)[..., None]
    points = camera.points(depth)
    noise = world_noise(rng, points)
    puddle = noise < puddle_share
    wet = world_noise(rng, points, 0.3, 0.6) < film
    dist = ray_distance(np.where(road, depth, 1.0), camera)
    fresnel = _schlick(np.clip(camera.height / dist, 0, 1))
    r_film = np.where(puddle, fresnel, np.where(wet, 0.6 * fresnel, 0.15 * fresnel))
    r_film = r_film * (valid | (glossy_valid > 0.2))
    mirror = np.where(puddle[..., None], refl, glossy)
    diffuse = x * np.where(puddle, albedo * 0.8, albedo)[..., None]
    wet_road = diffuse * (1 - r_film[..., None]) + mirror * r_film[..., None]
    out[road] = wet_road[road]
    return _to_uint8(out)


def snow_cover(label, depth, camera, severity, rng):
    """Boolean (H, W) mask of the snow cover at ``severity`` (see the module docstring)."""
    from .lens import check_severity
    share, thickness = SNOW_SEVERITY[check_severity(severity)][:2]
    points = camera.points(depth)
    noise = world_noise(rng, points, 0.6, 1.2)
    ground_share = np.where(label == _T['road'], 0.8 * share, share)
    cover = np.isin(label, _GROUND) & (noise < ground_share)
    h = label.shape[0]
    finite = np.where(np.isfinite(depth), depth, np.inf)
    above_lab = np.vstack([np.full((1, label.shape[1]), 255, label.dtype), label[:-1]])
    above_z = np.vstack([np.full((1, label.shape[1]), np.inf, np.float32), finite[:-1]])
    edge = np.isin(label, _TOPS) & (above_lab != label) & (above_z > finite + 0.3)
    layer = camera.f * thickness / np.where(np.isfinite(depth), depth, np.inf)
    k_max = int(min(np.ceil(np.nanmax(np.where(edge, layer, 0))), h))
    tops = edge.copy()
    run = edge.copy()
    for j in range(1, k_max + 1):
        run = np.vstack([np.zeros((1, label.shape[1]), bool), run[:-1]]) & \
            (label == np.vstack([label[:1], label[:-1]]))
        tops |= run & (j < layer)
    return cover | tops


def render_snow(img, label, depth, camera, severity, rng, ego_speed=8.0, exposure=1 / 250,
                lens_focal=0.004, f_number=2.0):
    """Snowy version of an image at ``severity`` 1..5 (``SNOW_SEVERITY``).

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB image.
        label (np.ndarray): (H, W) trainIds.
        depth (np.ndarray): (H, W) depth along the optical axis (m, ``inf`` = sky).
        camera (Camera): The scene's camera.
        severity (int): 1 (a dusting) .. 5 (heavy snowfall, covered street).
        rng (np.random.Generator): Cover layout and flakes.
        ego_speed (float): Car speed (m/s) for the flake streaks. Default: 8.0.
        exposure (float): Exposure (s). Default: 1/250.
        lens_focal (float): Lens focal length (m), thin-lens defocus. Default: 0.004.
        f_number (float): Lens f-number. Default: 2.0.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB snowy image.
    """
    from .camera import ray_distance
    from .weather import (_check_depth, _to_float, _to_uint8, fog_beta, frustum_particles,
                          koschmieder, particle_alpha)
    from .lens import check_severity
    _check_depth(img, depth)
    _, _, flakes, visibility = SNOW_SEVERITY[check_severity(severity)]
    x = _to_float(img)
    cover = snow_cover(label, depth, camera, severity, rng)
    lum = x.mean(-1)
    ref = max(float(np.percentile(lum[np.isfinite(depth)], 90)) if np.isfinite(depth).any()
              else 1.0, 1e-3)
    shade = np.clip(lum / ref, 0.45, 1.0) ** 0.5
    snow = shade[..., None] * np.array((0.92, 0.94, 0.98), np.float32)
    out = np.where(cover[..., None], snow, x)
    # overcast sky of the snowfall
    out[~np.isfinite(depth)] = 0.5 * out[~np.isfinite(depth)] + 0.5 * 0.8
    grey = np.full(3, 0.8, np.float32)
    out = koschmieder(out, ray_distance(depth, camera), fog_beta(visibility), grey)
    x0, y0, z = frustum_particles(rng, flakes, depth.shape, camera, 0.5, 8.0)
    dia = rng.uniform(1.0, 6.0, len(z))  # mm, snow flakes
    alpha = particle_alpha(depth, camera, x0, y0, z, dia, rng.uniform(0.5, 1.5, len(z)),
                           rng.normal(0.0, 1.0), ego_speed, exposure, lens_focal, f_number)
    out = out * (1 - alpha[..., None]) + 0.95 * alpha[..., None]
    return _to_uint8(out)
