"""Physically-based rain and fog rendering on an image with metric depth.

Fog (Sakaridis et al., "Semantic Foggy Scene Understanding with Synthetic Data",
IJCV 2018): Koschmieder's law ``I = J t + A (1 - t)``, ``t = exp(-beta Z)``, with the
attenuation coefficient from the meteorological optical range ``beta = 2.996 / V``
(5 % contrast threshold) and the atmospheric light ``A`` estimated from the
brightest pixels of the dark channel (He et al., CVPR 2009).

Rain at a rate ``R`` (mm/h), following the physics used for weather-augmented
Cityscapes (Halder et al., "Physics-based rendering for improving robustness to
rain", ICCV 2019):

* drop sizes: Marshall & Palmer (1948), ``N(D) = N0 exp(-Lambda D)`` with
  ``N0 = 8000 m^-3 mm^-1`` and ``Lambda = 4.1 R^-0.21 mm^-1``;
* terminal fall speed: Atlas, Srivastava & Sekhon (1973),
  ``v(D) = 9.65 - 10.3 exp(-0.6 D)`` m/s (D in mm), plus a horizontal wind;
* streaks: a drop at depth ``Z`` moves, relative to the camera, by
  ``(wind, -v(D), -v_ego) T`` during the exposure ``T``; its streak joins the
  projections of both ends (:func:`streak_displacement`), so besides the fall
  ``f v T / Z`` it carries the car's own motion, a radial flow ``(p, q) f v_ego T / Z``
  away from the focus of expansion. A pixel on it sees the drop for the fraction
  ``d^2 / ((L + w) w)`` of the exposure (``d = f D / Z`` the drop's projected
  diameter, ``w = sqrt(d^2 + c^2)`` its width after the thin-lens defocus ``c`` of
  :func:`.camera.coc_diameter`: near drops are out of focus, their opacity spread,
  not lost), and the drop's radiance is ~0.94 of the bright environment it refracts
  (Garg & Nayar, "Photometric model of a rain drop", 2003);
* attenuation and veiling by the drops in the whole scene: Koschmieder's law over
  the distance ``d`` from the camera centre (not the depth ``Z``:
  :func:`.camera.ray_distance`) with the geometric-optics extinction of the
  Marshall-Palmer population (extinction efficiency 2):
  ``beta(R) = (pi / 2) int D^2 N(D) dD = pi N0 / Lambda^3``, which grows as
  ``R^0.63`` (1.1 km visibility at 25 mm/h, 0.3 km at 200 mm/h);
* loss of sharpness: half of that extinction is diffraction into a narrow forward
  lobe (width ``0.42 lambda / D``), which still reaches the camera, blurred; the
  other half is replaced by the veil. :func:`forward_scatter` mixes the three parts
  with weights that sum to one;
* drops on the windscreen (Roser & Geiger, ICCV-W 2009; Halimeh & Roser, IV 2009):
  the glass collects the falling flux ``int N(D) v(D) dD`` plus the drops the
  moving car sweeps, ``int N(D) dD * v_ego``; over the visible sizes ``D > d_min``
  this is ``N0 [(9.65 + v_ego) / Lambda e^(-Lambda d) - 10.3 / (Lambda + 0.6)
  e^(-(Lambda + 0.6) d)]`` drops m^-2 s^-1, collected over the imaged glass area
  times the time since the last wiper stroke. Each drop spreads to about twice its
  diameter on the glass and refracts an inverted, shrunk view of the scene
  (:mod:`.lens`), out of focus by the thin-lens circle of confusion of the glass.

A dataset's rain scene (:func:`.writers.write_weather`) is rendered over the road as
the rain wets it: :func:`.surface.rain_wetness` turns the rate into the water film
depth of Gallaway et al. (1979) and the wet-road severity of :func:`.surface.render_wet`
(damp at 25 mm/h, standing water at 200 mm/h), as real rainy street scenes (ACDC's
rain) show reflective roads.

All renderers share the scene's pinhole camera (:mod:`.camera`, stored per image as
Cityscapes' ``*_camera.json``).
"""
import numpy as np

__all__ = [
    'marshall_palmer_slope', 'terminal_velocity', 'rain_extinction', 'drop_flux',
    'fog_beta', 'beta_tag', 'estimate_atmospheric_light', 'koschmieder',
    'render_fog', 'render_rain', 'forward_scatter', 'forward_lobe_sigma',
    'streak_displacement',
]

MP_N0 = 8000.0  # m^-3 mm^-1, Marshall & Palmer (1948)
MOR_CONTRAST = 2.996  # -ln(0.05): 5 % contrast threshold of the meteorological optical range


def marshall_palmer_slope(rate):
    """Slope ``Lambda`` (1/mm) of the Marshall-Palmer drop-size distribution.

    Args:
        rate (float): Rain rate in mm/h (> 0).
    """
    if rate <= 0:
        raise ValueError(f'rain rate must be > 0 mm/h, got {rate}')
    return 4.1 * rate ** -0.21


def terminal_velocity(diameter_mm):
    """Terminal fall speed (m/s) of drops of the given diameters (mm), Atlas et al. 1973."""
    return np.clip(9.65 - 10.3 * np.exp(-0.6 * np.asarray(diameter_mm)), 0.1, None)


def rain_extinction(rate):
    """Extinction coefficient (1/m) of rain at ``rate`` mm/h: ``pi N0 / Lambda^3``.

    Geometric optics (extinction efficiency 2) integrated over the Marshall-Palmer
    distribution; the 1e-6 converts mm^2 of cross-section to m^2.
    """
    lam = marshall_palmer_slope(rate)
    return np.pi * MP_N0 / lam ** 3 * 1e-6


def drop_flux(rate, ego_speed=0.0, d_min=0.0):
    """Drops of diameter > ``d_min`` (mm) hitting a surface per m^2 and s at ``rate``
    mm/h: ``int N(D) (v(D) + ego_speed) dD`` over Marshall-Palmer with Atlas et
    al.'s fall speed (``ego_speed`` in m/s: drops swept by a moving windscreen)."""
    lam = marshall_palmer_slope(rate)
    return MP_N0 * ((9.65 + ego_speed) / lam * np.exp(-lam * d_min)
                    - 10.3 / (lam + 0.6) * np.exp(-(lam + 0.6) * d_min))


def fog_beta(visibility):
    """Attenuation coefficient (1/m) for a visibility ``V`` (m): ``2.996 / V``."""
    if visibility <= 0:
        raise ValueError(f'fog visibility must be > 0 m, got {visibility}')
    return MOR_CONTRAST / visibility


def beta_tag(visibility):
    """The ``beta`` string of Foggy Cityscapes file names for a visibility (m),
    e.g. ``150 -> '0.02'`` (``*_leftImg8bit_foggy_beta_0.02.png``): two significant
    digits, which gives the published 0.005 / 0.01 / 0.02 for 600 / 300 / 150 m."""
    return f'{fog_beta(visibility):.2g}'


def _dark_channel(img, patch):
    import cv2
    dark = img.min(axis=2)
    kernel = np.ones((patch, patch), np.uint8)
    return cv2.erode(dark, kernel)


def estimate_atmospheric_light(img, top_fraction=0.001, patch=7):
    """Atmospheric light: brightness of the brightest ``top_fraction`` pixels of the
    dark channel (He, Sun & Tang, CVPR 2009), as Foggy Cityscapes does, made
    achromatic (rain drops and fog droplets are much larger than the wavelength, so
    they scatter all visible colours alike: no colour cast from a bright object).

    Args:
        img (np.ndarray): (H, W, 3) float image in [0, 1].
        top_fraction (float): Fraction of dark-channel pixels used. Default: 0.001.
        patch (int): Dark-channel window in pixels. Default: 7.
    """
    dark = _dark_channel(img, patch).ravel()
    k = max(1, int(round(dark.size * top_fraction)))
    idx = np.argpartition(dark, -k)[-k:]
    grey = float(img.reshape(-1, 3)[idx].mean())
    return np.full(3, grey, np.float32)


def koschmieder(img, distance, beta, airlight):
    """``I = J t + A (1 - t)`` with ``t = exp(-beta d)``, ``d`` the distance from the
    camera centre (:func:`.camera.ray_distance`); ``inf`` gives ``A``."""
    t = np.exp(-beta * np.where(np.isfinite(distance), distance, 1e9))[..., None]
    return img * t + np.asarray(airlight, np.float32) * (1.0 - t)


def _to_float(img):
    if img.dtype != np.uint8:
        raise TypeError(f'expected a uint8 RGB image, got dtype {img.dtype}')
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'expected an (H, W, 3) image, got shape {img.shape}')
    return img.astype(np.float32) / 255.0


def _check_depth(img, depth):
    if depth.shape != img.shape[:2]:
        raise ValueError(f'depth shape {depth.shape} does not match image {img.shape[:2]}')


def _to_uint8(img):
    return (np.clip(img, 0, 1) * 255.0 + 0.5).astype(np.uint8)


def render_fog(img, depth, visibility, airlight=None, camera=None):
    """Foggy image at visibility ``visibility`` (m), Koschmieder with ``beta = 2.996/V``
    over the distance from the camera centre.

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB clear image.
        depth (np.ndarray): (H, W) depth along the optical axis in metres (``inf``
            for sky).
        visibility (float): Meteorological optical range in metres.
        airlight (array-like | None): Atmospheric light in [0, 1]; estimated from
            the image when None. Default: None.
        camera (Camera | None): The scene's camera; :meth:`Camera.default` when
            None. Default: None.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB foggy image.
    """
    from .camera import Camera, ray_distance
    _check_depth(img, depth)
    x = _to_float(img)
    camera = Camera.default(*depth.shape) if camera is None else camera
    a = estimate_atmospheric_light(x) if airlight is None else airlight
    return _to_uint8(koschmieder(x, ray_distance(depth, camera), fog_beta(visibility), a))


def forward_scatter(x, distance, beta, airlight, sigma, eta=0.5):
    """Energy-conserving split of the light the medium takes out of the direct beam.

    Over a path of length ``d`` the unscattered fraction ``t = exp(-beta d)`` of the
    scene radiance ``J`` arrives sharp; of the removed fraction ``1 - t`` the share
    ``eta`` is scattered into the narrow forward (diffraction) lobe and still arrives
    from about the same direction, blurred by that lobe (Gaussian of width
    ``sigma`` px), and the share ``1 - eta`` is replaced by in-scattered ambient light
    ``A`` (the veil of Koschmieder's law):
    ``I = t J + (1 - t) (eta G_sigma * J + (1 - eta) A)``. The three weights sum to
    one, so a uniform scene equal to the airlight is unchanged (nothing is counted
    twice). For drops much larger than the wavelength the extinction efficiency is 2,
    half of it diffraction (van de Hulst's extinction paradox), hence ``eta = 0.5``.

    Args:
        x (np.ndarray): (H, W, 3) float image ``J`` in [0, 1].
        distance (np.ndarray): (H, W) distance from the camera centre (m, ``inf`` = sky).
        beta (float): Extinction coefficient (1/m).
        airlight (array-like): ``A``, (3,) in [0, 1].
        sigma (float): Width (px) of the forward lobe; no blur below 0.3 px.
        eta (float): Forward-lobe share of the extinguished light. Default: 0.5.
    """
    import cv2
    t = np.exp(-beta * np.where(np.isfinite(distance), distance, 1e9))[..., None]
    blurred = cv2.GaussianBlur(x, (0, 0), sigma) if sigma >= 0.3 else x
    scattered = eta * blurred + (1.0 - eta) * np.asarray(airlight, np.float32)
    return x * t + scattered * (1.0 - t)


def forward_lobe_sigma(rate, f_px, wavelength=550e-9):
    """Width (px) of the diffraction lobe of the rain drops: the Gaussian fit of an
    Airy pattern, ``sigma_theta = 0.42 lambda / D``, for the extinction-weighted mean
    diameter ``D = 3 / Lambda`` of Marshall-Palmer (cross-section ``D^2 N(D)``)."""
    diameter = 3.0 / marshall_palmer_slope(rate) * 1e-3  # m
    return f_px * 0.42 * wavelength / diameter


def streak_displacement(x0, y0, z, camera, fall_speed, wind, ego_speed, exposure):
    """Image displacement (px) of drops during the exposure, in the moving camera.

    A drop at pixel ``(x0, y0)`` and depth ``Z`` sits at ``X = (x0 - c_x) Z / f``,
    ``Y = h - (y0 - c_y) Z / f``; relative to the camera it moves by
    ``(wind, -fall_speed, -ego_speed) T`` during the exposure ``T``; the streak joins
    the projections of both ends, so ego-motion adds the radial flow
    ``(p, q) f v_ego T / Z`` away from the focus of expansion.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(dx, dy)`` in pixels.
    """
    from .camera import project
    px, qy = (x0 - camera.cx) / camera.f, (y0 - camera.cy) / camera.f
    x_w, y_w = px * z, camera.height - qy * z
    z1 = np.maximum(z - ego_speed * exposure, 0.05)
    x1, y1 = project(np.stack([x_w + wind * exposure, y_w - fall_speed * exposure, z1], -1),
                     camera)
    return x1 - x0, y1 - y0


def particle_alpha(depth, camera, x0, y0, z, diameter, fall_speed, wind, ego_speed,
                   exposure, lens_focal=0.004, f_number=2.0):
    """Accumulated per-pixel opacity of falling particles (rain drops, snow flakes).

    Each particle at pixel ``(x0, y0)``, depth ``z`` (m) and of ``diameter`` (mm) is a
    streak from its position at the start to its position at the end of the exposure
    (:func:`streak_displacement`) over a footprint ``(L + w) x w`` pixels, ``d`` its
    projected diameter and ``w = sqrt(d^2 + c^2)`` its width after the thin-lens
    defocus ``c`` (:func:`.camera.coc_diameter`); a pixel of the footprint sees it
    for the fraction ``d^2 / ((L + w) w)`` of the exposure, so its opacity summed
    over the image is ``d^2`` whatever the streak length and defocus. Hidden where a
    surface is nearer.

    Returns:
        np.ndarray: (H, W) float32 opacity in [0, 1].
    """
    from .camera import coc_diameter
    h, w = depth.shape
    focal = camera.f
    n = len(z)
    dx, dy = streak_displacement(x0, y0, z, camera, fall_speed, wind, ego_speed, exposure)
    d_px = focal * diameter * 1e-3 / z
    width = np.hypot(d_px, coc_diameter(z, focal, lens_focal, f_number))
    length = np.hypot(dx, dy)
    n_len = np.maximum(np.ceil(length + width).astype(np.int64), 1)
    n_wid = np.maximum(np.ceil(width).astype(np.int64), 1)
    # each of the n_len x n_wid samples (about one per pixel) carries d^2 / n: the
    # particle's integrated opacity d^2 is spread over its footprint
    alpha = d_px ** 2 / (n_len * n_wid)
    # unit vectors along the streak (down for a still particle) and across it
    ux = np.where(length > 1e-6, dx / np.maximum(length, 1e-6), 0.0)
    uy = np.where(length > 1e-6, dy / np.maximum(length, 1e-6), 1.0)
    per = n_len * n_wid
    idx = np.repeat(np.arange(n), per)
    start = np.repeat(np.cumsum(per) - per, per)
    k = np.arange(idx.size) - start
    # samples cover the (L + w) x w footprint: the particle swept along its path
    along = ((k // n_wid[idx]) + 0.5) / n_len[idx] * (length + width)[idx] - width[idx] / 2
    across = (k % n_wid[idx] + 0.5) / n_wid[idx] * width[idx] - width[idx] / 2
    px = x0[idx] + along * ux[idx] - across * uy[idx]
    py = y0[idx] + along * uy[idx] + across * ux[idx]
    xi, yi = np.floor(px).astype(np.int64), np.floor(py).astype(np.int64)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    xi, yi, idx = xi[inside], yi[inside], idx[inside]
    flat = yi * w + xi
    visible = z[idx] < depth.ravel()[flat]  # a particle behind a surface is hidden
    acc = np.bincount(flat[visible], weights=alpha[idx][visible], minlength=h * w)
    return np.clip(acc.reshape(h, w), 0.0, 1.0).astype(np.float32)


def frustum_particles(rng, density, shape, camera, z_near, z_far):
    """Poisson number of particles uniform in the frustum volume between ``z_near``
    and ``z_far`` (``density`` per m^3): image positions uniform, ``Z^3`` uniform.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ``x0``, ``y0`` (px) and ``z`` (m).
    """
    h, w = shape
    volume = (w / camera.f) * (h / camera.f) * (z_far ** 3 - z_near ** 3) / 3.0
    n = rng.poisson(density * volume)
    z = np.cbrt(z_near ** 3 + rng.random(n) * (z_far ** 3 - z_near ** 3))
    return rng.random(n) * w, rng.random(n) * h, z


def _streak_alpha(rng, depth, rate, camera, exposure, wind, z_near, z_far, d_min, d_max,
                  ego_speed, lens_focal, f_number):
    """Streak opacity of the Marshall-Palmer drops in the near frustum."""
    lam = marshall_palmer_slope(rate)
    density = MP_N0 / lam * (np.exp(-lam * d_min) - np.exp(-lam * d_max))  # drops / m^3
    x0, y0, z = frustum_particles(rng, density, depth.shape, camera, z_near, z_far)
    # diameters: truncated exponential by inverse CDF
    u = rng.random(len(z))
    e0, e1 = np.exp(-lam * d_min), np.exp(-lam * d_max)
    dia = -np.log(e0 - u * (e0 - e1)) / lam  # mm
    return particle_alpha(depth, camera, x0, y0, z, dia, terminal_velocity(dia), wind,
                          ego_speed, exposure, lens_focal, f_number)


def _glass_drops(x, rng, rate, camera, glass_exposure, glass_distance, ego_speed, d_min,
                 lens_focal, f_number):
    """The scene through the refracting, defocused drops on the windscreen."""
    from .camera import coc_diameter
    from .lens import composite_drops
    h, w = x.shape[:2]
    n = rng.poisson(drop_flux(rate, ego_speed, d_min) * glass_exposure)
    if n == 0:
        return x
    lam = marshall_palmer_slope(rate)
    dia = d_min + rng.exponential(1.0 / lam, n)  # mm, Marshall-Palmer above d_min
    radius = dia * 1e-3 * camera.f / glass_distance  # spread to twice the diameter
    centres = np.stack([rng.random(n) * w, rng.random(n) * h], 1)
    defocus = float(coc_diameter(glass_distance, camera.f, lens_focal, f_number))
    return composite_drops(x, centres, radius, defocus)


def render_rain(img, depth, rate, rng, camera=None, exposure=1 / 200, wind=None,
                z_near=0.3, z_far=3.0, d_min=0.5, d_max=6.0, airlight=None,
                glass_exposure=0.006, glass_distance=0.1, ego_speed=8.0,
                lens_focal=0.004, f_number=2.0, forward_share=0.5):
    """Rainy image at rate ``rate`` mm/h (see the module docstring for the physics).

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB clear image.
        depth (np.ndarray): (H, W) depth along the optical axis in metres (``inf``
            for sky).
        rate (float): Rain rate in mm/h.
        rng (np.random.Generator): Source of drop positions, sizes and wind.
        camera (Camera | None): The scene's camera (:mod:`.camera`);
            :meth:`Camera.default` when None. Default: None.
        exposure (float): Exposure time in seconds (short, as automotive cameras
            use in daylight to avoid motion blur). Default: 1/200.
        wind (float | None): Horizontal wind in m/s; drawn from N(0, 2) when None.
            Default: None.
        z_near (float): Nearest rendered drop (m). Default: 0.3.
        z_far (float): Farthest drop rendered as a streak (m); farther drops are
            sub-pixel and act through the extinction only. Default: 3.0.
        d_min (float): Smallest drop diameter rendered as a streak (mm). Default: 0.5.
        d_max (float): Largest drop diameter (mm). Default: 6.0.
        airlight (array-like | None): Veiling light in [0, 1]; estimated from the
            image when None. Default: None.
        glass_exposure (float): Imaged windscreen area times the time since the
            last wiper stroke (m^2 s): ~0.012 m^2 of inclined glass in the field of
            view, wiped every second (mean age 0.5 s); 0 renders no drops on the
            glass. Default: 0.006.
        glass_distance (float): Distance (m) of the windscreen from the camera.
            Default: 0.1.
        ego_speed (float): Speed of the car (m/s): it sweeps drops onto the
            windscreen and bends the streaks away from the focus of expansion.
            Default: 8.0 (~30 km/h, urban).
        lens_focal (float): Lens focal length (m) for the thin-lens defocus of
            near drops and of the glass. Default: 0.004.
        f_number (float): Lens f-number. Default: 2.0.
        forward_share (float): Share of the extinguished light scattered into the
            forward lobe (:func:`forward_scatter`). Default: 0.5.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB rainy image.
    """
    from .camera import Camera, ray_distance
    _check_depth(img, depth)
    x = _to_float(img)
    h, w = depth.shape
    camera = Camera.default(h, w) if camera is None else camera
    wind = rng.normal(0.0, 2.0) if wind is None else wind
    a = estimate_atmospheric_light(x) if airlight is None else np.asarray(airlight, np.float32)
    beta = rain_extinction(rate)
    x = forward_scatter(x, ray_distance(depth, camera), beta, a,
                        forward_lobe_sigma(rate, camera.f), forward_share)
    alpha = _streak_alpha(rng, depth, rate, camera, exposure, wind, z_near, z_far, d_min,
                          d_max, ego_speed, lens_focal, f_number)
    drop_radiance = 0.94 * np.asarray(a, np.float32)
    x = x * (1.0 - alpha[..., None]) + drop_radiance * alpha[..., None]
    if glass_exposure > 0:
        x = _glass_drops(x, rng, rate, camera, glass_exposure, glass_distance, ego_speed,
                         d_min, lens_focal, f_number)
    return _to_uint8(x)
