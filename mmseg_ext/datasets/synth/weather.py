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
* streaks: each drop in the camera frustum moves by ``f v T / Z`` pixels during
  the exposure ``T``, so it is a streak of that length whose orientation is
  ``atan(wind / v)``; a pixel on it sees the drop for the fraction
  ``d^2 / (max(d, 1) max(L + d, 1))`` of the exposure (``d = f D / Z`` the drop's
  projected diameter), and the drop's radiance is ~0.94 of the bright environment
  it refracts (Garg & Nayar, "Photometric model of a rain drop", 2003);
* attenuation and veiling by the drops in the whole scene: Koschmieder's law
  with the geometric-optics extinction of the Marshall-Palmer population
  (extinction efficiency 2): ``beta(R) = (pi / 2) int D^2 N(D) dD = pi N0 / Lambda^3``,
  which grows as ``R^0.63`` (1.1 km visibility at 25 mm/h, 0.3 km at 200 mm/h);
* loss of sharpness: forward scattering spreads the directly transmitted light
  (the atmospheric point-spread function of Narasimhan & Nayar, CVPR 2003): the
  fraction ``1 - exp(-beta Z)`` of it is replaced by a blurred copy;
* drops on the windscreen (Roser & Geiger, ICCV-W 2009; Halimeh & Roser, IV 2009):
  the glass collects the falling flux ``int N(D) v(D) dD`` plus the drops the
  moving car sweeps, ``int N(D) dD * v_ego``; over the visible sizes ``D > d_min``
  this is ``N0 [(9.65 + v_ego) / Lambda e^(-Lambda d) - 10.3 / (Lambda + 0.6)
  e^(-(Lambda + 0.6) d)]`` drops m^-2 s^-1, collected over the imaged glass area
  times the time since the last wiper stroke. Each drop spreads to about twice its
  diameter on the glass and, far out of focus, appears as a soft blob showing a
  blurred view of the scene.
"""
import numpy as np

__all__ = [
    'marshall_palmer_slope', 'terminal_velocity', 'rain_extinction', 'drop_flux',
    'fog_beta', 'beta_tag', 'estimate_atmospheric_light', 'koschmieder',
    'render_fog', 'render_rain',
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


def koschmieder(img, depth, beta, airlight):
    """``I = J t + A (1 - t)`` with ``t = exp(-beta depth)``; ``inf`` depth gives ``A``."""
    t = np.exp(-beta * np.where(np.isfinite(depth), depth, 1e9))[..., None]
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


def render_fog(img, depth, visibility, airlight=None):
    """Foggy image at visibility ``visibility`` (m), Koschmieder with ``beta = 2.996/V``.

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB clear image.
        depth (np.ndarray): (H, W) depth in metres (``inf`` for sky).
        visibility (float): Meteorological optical range in metres.
        airlight (array-like | None): Atmospheric light in [0, 1]; estimated from
            the image when None. Default: None.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB foggy image.
    """
    _check_depth(img, depth)
    x = _to_float(img)
    a = estimate_atmospheric_light(x) if airlight is None else airlight
    return _to_uint8(koschmieder(x, depth, fog_beta(visibility), a))


def _forward_scatter_blur(x, depth, beta, sigma):
    import cv2
    if sigma <= 0:
        return x
    blurred = cv2.GaussianBlur(x, (0, 0), sigma)
    w = (1.0 - np.exp(-beta * np.where(np.isfinite(depth), depth, 1e9)))[..., None]
    return x * (1.0 - w) + blurred * w


def _streak_alpha(rng, depth, rate, focal, exposure, wind, z_near, z_far, d_min, d_max):
    """Accumulated per-pixel streak opacity of the drops in the near frustum."""
    h, w = depth.shape
    lam = marshall_palmer_slope(rate)
    density = MP_N0 / lam * (np.exp(-lam * d_min) - np.exp(-lam * d_max))  # drops / m^3
    volume = (w / focal) * (h / focal) * (z_far ** 3 - z_near ** 3) / 3.0
    n = rng.poisson(density * volume)
    # diameters: truncated exponential by inverse CDF
    u = rng.random(n)
    e0, e1 = np.exp(-lam * d_min), np.exp(-lam * d_max)
    dia = -np.log(e0 - u * (e0 - e1)) / lam  # mm
    # uniform in the frustum volume: Z^3 uniform, image position uniform
    z = np.cbrt(z_near ** 3 + rng.random(n) * (z_far ** 3 - z_near ** 3))
    x0 = rng.random(n) * w
    y0 = rng.random(n) * h
    speed = terminal_velocity(dia)
    d_px = focal * dia * 1e-3 / z
    dx = focal * wind * exposure / z
    dy = focal * speed * exposure / z
    length = np.hypot(dx, dy)
    alpha = d_px ** 2 / (np.maximum(d_px, 1.0) * np.maximum(length + d_px, 1.0))
    n_len = np.maximum(np.ceil(length + d_px).astype(np.int64), 1)
    n_wid = np.maximum(np.ceil(d_px).astype(np.int64), 1)
    per = n_len * n_wid
    idx = np.repeat(np.arange(n), per)
    start = np.repeat(np.cumsum(per) - per, per)
    k = np.arange(idx.size) - start
    along = (k // n_wid[idx]) / np.maximum(n_len[idx] - 1, 1)
    across = k % n_wid[idx] - (n_wid[idx] - 1) / 2.0
    norm = np.maximum(length[idx], 1e-6)
    px = x0[idx] + along * dx[idx] + across * dy[idx] / norm
    py = y0[idx] + along * dy[idx] - across * dx[idx] / norm
    xi, yi = px.astype(np.int64), py.astype(np.int64)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    xi, yi, idx = xi[inside], yi[inside], idx[inside]
    flat = yi * w + xi
    visible = z[idx] < depth.ravel()[flat]  # a drop behind a surface is hidden
    acc = np.bincount(flat[visible], weights=alpha[idx][visible], minlength=h * w)
    return np.clip(acc.reshape(h, w), 0.0, 1.0).astype(np.float32)


def _lens_drops(x, rng, rate, focal, glass_exposure, glass_distance, ego_speed, d_min,
                airlight):
    """Composites the defocused drops that sit on the windscreen."""
    import cv2
    h, w = x.shape[:2]
    n = rng.poisson(drop_flux(rate, ego_speed, d_min) * glass_exposure)
    if n == 0:
        return x
    lam = marshall_palmer_slope(rate)
    dia = d_min + rng.exponential(1.0 / lam, n)  # mm, Marshall-Palmer above d_min
    radius = 2.0 * dia * 1e-3 / 2 * focal / glass_distance  # spread x2 on the glass
    cx, cy = rng.random(n) * w, rng.random(n) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    mask = np.zeros((h, w), np.float32)
    for px, py, r in zip(cx, cy, radius):
        r0, r1 = int(max(py - 2 * r, 0)), int(min(py + 2 * r + 1, h))
        c0, c1 = int(max(px - 2 * r, 0)), int(min(px + 2 * r + 1, w))
        d2 = (xx[r0:r1, c0:c1] - px) ** 2 + (yy[r0:r1, c0:c1] - py) ** 2
        mask[r0:r1, c0:c1] = np.maximum(mask[r0:r1, c0:c1], np.exp(-d2 / (2 * (0.6 * r) ** 2)))
    sigma = max(float(np.median(radius)), 1.0)
    seen = 0.6 * cv2.GaussianBlur(x, (0, 0), sigma) + 0.4 * np.asarray(airlight, np.float32)
    return x * (1.0 - mask[..., None]) + seen * mask[..., None]


def render_rain(img, depth, rate, rng, focal=None, exposure=1 / 200, wind=None,
                z_near=0.3, z_far=3.0, d_min=0.5, d_max=6.0, blur_sigma=None,
                airlight=None, glass_exposure=0.006, glass_distance=0.1, ego_speed=8.0):
    """Rainy image at rate ``rate`` mm/h (see the module docstring for the physics).

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB clear image.
        depth (np.ndarray): (H, W) depth in metres (``inf`` for sky).
        rate (float): Rain rate in mm/h.
        rng (np.random.Generator): Source of drop positions, sizes and wind.
        focal (float | None): Focal length in pixels; ``0.9 * W`` when None. Default: None.
        exposure (float): Exposure time in seconds (short, as automotive cameras
            use in daylight to avoid motion blur). Default: 1/200.
        wind (float | None): Horizontal wind in m/s; drawn from N(0, 2) when None.
            Default: None.
        z_near (float): Nearest rendered drop (m). Default: 0.3.
        z_far (float): Farthest drop rendered as a streak (m); farther drops are
            sub-pixel and act through the extinction only. Default: 3.0.
        d_min (float): Smallest drop diameter rendered as a streak (mm). Default: 0.5.
        d_max (float): Largest drop diameter (mm). Default: 6.0.
        blur_sigma (float | None): Width (px) of the forward-scattering blur;
            ``W / 128`` when None. Default: None.
        airlight (array-like | None): Veiling light in [0, 1]; estimated from the
            image when None. Default: None.
        glass_exposure (float): Imaged windscreen area times the time since the
            last wiper stroke (m^2 s): ~0.012 m^2 of inclined glass in the field of
            view, wiped every second (mean age 0.5 s); 0 renders no drops on the
            glass. Default: 0.006.
        glass_distance (float): Distance (m) of the windscreen from the camera.
            Default: 0.1.
        ego_speed (float): Speed of the car (m/s), which sweeps drops onto the
            windscreen. Default: 8.0 (~30 km/h, urban).

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB rainy image.
    """
    _check_depth(img, depth)
    x = _to_float(img)
    h, w = depth.shape
    focal = 0.9 * w if focal is None else focal
    wind = rng.normal(0.0, 2.0) if wind is None else wind
    sigma = w / 128.0 if blur_sigma is None else blur_sigma
    a = estimate_atmospheric_light(x) if airlight is None else np.asarray(airlight, np.float32)
    beta = rain_extinction(rate)
    x = _forward_scatter_blur(x, depth, beta, sigma)
    x = koschmieder(x, depth, beta, a)
    alpha = _streak_alpha(rng, depth, rate, focal, exposure, wind, z_near, z_far, d_min, d_max)
    drop_radiance = 0.94 * np.asarray(a, np.float32)
    x = x * (1.0 - alpha[..., None]) + drop_radiance * alpha[..., None]
    if glass_exposure > 0:
        x = _lens_drops(x, rng, rate, focal, glass_exposure, glass_distance, ego_speed,
                        d_min, a)
    return _to_uint8(x)
