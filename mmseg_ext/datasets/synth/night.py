"""Night: low light, artificial lights with glare, and a noisy camera.

The daylight image is taken as the scene's reflectance under unit light after the
inverse sRGB response (``x^2.2``). At night

* the ambient light (moon, sky glow) is the fraction ``k`` of daylight (severity);
* street lamps sit on the tops of the poles of the label map and light every point
  ``P`` with the inverse-square law ``E = I cos(theta) / |L - P|^2`` (``theta``
  between the surface normal, estimated from the depth map, and the lamp); the own
  car's headlights are two forward beams at 0.7 m height with a Gaussian angular
  profile, also falling off with ``1 / d^2``;
* light sources are seen directly: lamp heads, the head- or tail-lights of other
  vehicles (two lamps in the lower part of each vehicle segment) and lit windows
  (a floor x bay grid in world coordinates on building pixels, a fixed share lit);
* the camera (a linear sensor followed by the sRGB response): auto-exposure gain
  ``g = min(target / mean, g_max)`` with ``g_max`` the largest analogue gain; a
  linear signal ``s`` collects ``s Q`` electrons (``Q`` at full scale and unit gain)
  with Poisson shot noise plus Gaussian read noise (the sensor noise model of
  Healey & Kondepudy, PAMI 1994), and the output is ``g N / Q``: at a fixed output
  level the noise std grows as ``sqrt(g)``, i.e. as the light falls;
* glare: light above saturation spreads through the lens and eye-like scatter, the
  point-spread function of Spencer et al. ("Physically-based glare effects for
  digital images", SIGGRAPH 1995) approximated by two Gaussians (a narrow bloom and
  a wide flare) that keep the energy of the overflowing light.
"""
import numpy as np

from .labels import TRAIN_ID

__all__ = ['NIGHT_SEVERITY', 'render_night', 'surface_normals']

#: Severity 1..5 -> (ambient fraction ``k`` of daylight, largest gain ``g_max``).
NIGHT_SEVERITY = {1: (0.2, 2.0), 2: (0.07, 3.0), 3: (0.025, 5.0), 4: (0.01, 8.0),
                  5: (0.004, 12.0)}
_GROUND = (TRAIN_ID['road'], TRAIN_ID['sidewalk'], TRAIN_ID['terrain'])
_VEHICLES = (TRAIN_ID['car'], TRAIN_ID['truck'], TRAIN_ID['bus'])


def surface_normals(points, label):
    """Unit normals (H, W, 3) from the depth map's world points (cross product of
    the image-space derivatives, oriented towards the camera); the road, sidewalk
    and terrain classes get the ground normal ``(0, 1, 0)``, sky ``(0, 0, -1)``."""
    finite = np.isfinite(points[..., 2])
    p = np.where(finite[..., None], points, 0.0)
    n = np.cross(np.gradient(p, axis=1), np.gradient(p, axis=0))
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-9)
    facing = np.sum(n * p, axis=-1, keepdims=True) > 0  # towards the camera: n . P < 0
    n = np.where(facing, -n, n)
    ground = np.isin(label, _GROUND)
    n[ground] = (0.0, 1.0, 0.0)
    bad = ~finite | (np.linalg.norm(n, axis=-1) < 0.5)
    n[bad] = (0.0, 0.0, -1.0)
    return n.astype(np.float32)


def _lamps(label, points):
    """Lamp positions (world) at the top of each tall pole segment."""
    import cv2
    n, comp, stats, _ = cv2.connectedComponentsWithStats(
        (label == TRAIN_ID['pole']).astype(np.uint8), connectivity=8)
    lamps = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if h < 4:
            continue
        rows, cols = np.nonzero(comp[y:y + 2, x:x + w] == i)
        p = points[y + rows[0], x + cols[0]]
        if np.isfinite(p[2]) and p[1] > 3.0:  # a street lamp, not a sign post
            lamps.append(p + (0.0, 0.3, 0.0))
    return lamps


def _vehicle_lights(label, rng):
    """(mask, rgb) pairs of head/tail-lights of the vehicle segments."""
    import cv2
    n, comp, stats, _ = cv2.connectedComponentsWithStats(
        np.isin(label, _VEHICLES).astype(np.uint8), connectivity=8)
    h, w = label.shape
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((h, w, 3), np.float32)
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if bw < 3 or bh < 3:
            continue
        rgb = np.array((3.0, 2.8, 2.4) if rng.random() < 0.5 else (2.5, 0.15, 0.1), np.float32)
        r = max(bw * 0.07, 0.6)
        for lx in (x + 0.15 * bw, x + 0.85 * bw):
            ly = y + 0.62 * bh
            spot = ((xx - lx) ** 2 + (yy - ly) ** 2 < r * r) & (comp == i)
            out[spot] = rgb
    return out


def _windows(label, points, rng, share=0.35):
    """Emission of lit windows on building pixels (a world-space floor x bay grid)."""
    pts = np.where(np.isfinite(points), points, 0.0)
    yb, along = pts[..., 1] / 3.0, (pts[..., 0] + pts[..., 2]) / 2.5
    iy, ia = np.floor(yb).astype(np.int64), np.floor(along).astype(np.int64)
    fy, fa = yb - iy, along - ia
    salt = int(rng.integers(1 << 30))
    lit = ((iy * 73856093) ^ (ia * 19349663) ^ salt) % 1000 < share * 1000
    win = ((label == TRAIN_ID['building']) & (fy > 0.3) & (fy < 0.8) & (fa > 0.2)
           & (fa < 0.75) & (pts[..., 1] > 1.0) & lit)
    return win[..., None] * np.array((0.9, 0.65, 0.35), np.float32)


def _glare(light, f_px):
    """Energy-conserving two-Gaussian glare of the light above saturation."""
    import cv2
    over = np.maximum(light - 1.0, 0.0)
    if not over.any():
        return light
    bloom = cv2.GaussianBlur(over, (0, 0), max(0.004 * f_px, 0.5))
    flare = cv2.GaussianBlur(over, (0, 0), max(0.03 * f_px, 1.0))
    return light - over + 0.8 * bloom + 0.2 * flare


def render_night(img, label, depth, camera, severity, rng, lamp_power=5.0,
                 headlight_power=20.0, target=0.1, full_well=1500.0, read_noise=3.0):
    """Night version of a daylight image at ``severity`` 1..5.

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB daylight image.
        label (np.ndarray): (H, W) trainIds.
        depth (np.ndarray): (H, W) depth along the optical axis (m, ``inf`` = sky).
        camera (Camera): The scene's camera.
        severity (int): 1 (dusk) .. 5 (dark street); ``NIGHT_SEVERITY``.
        rng (np.random.Generator): Noise, lights and lit windows.
        lamp_power (float): Street-lamp intensity ``I`` (irradiance at 1 m, in
            units of daylight irradiance). Default: 5.0.
        headlight_power (float): On-axis intensity of each headlight (same unit).
            Default: 20.0.
        target (float): Mean linear signal auto-exposure aims at. Default: 0.1.
        full_well (float): Electrons at full scale and unit gain ``Q`` (small
            automotive pixels). Default: 1500.
        read_noise (float): Read noise in electrons. Default: 3.0.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB night image.
    """
    from .lens import check_severity
    from .weather import _check_depth, _to_float, _to_uint8
    _check_depth(img, depth)
    ambient, gain_max = NIGHT_SEVERITY[check_severity(severity)]
    albedo = _to_float(img) ** 2.2
    points = camera.points(depth)
    normals = surface_normals(points, label)
    sky = ~np.isfinite(depth)
    light = np.full(depth.shape, ambient, np.float32)
    pts = np.where(np.isfinite(points), points, 1e6)
    sodium = np.array((1.0, 0.78, 0.5), np.float32) if rng.random() < 0.6 else \
        np.array((0.95, 0.95, 1.0), np.float32)
    irradiance = np.zeros(depth.shape + (3,), np.float32)
    lamps = _lamps(label, points)
    for lamp in lamps:
        vec = lamp - pts
        d2 = np.maximum(np.sum(vec ** 2, -1), 0.25)
        cos = np.clip(np.sum(vec * normals, -1) / np.sqrt(d2), 0.0, 1.0)
        irradiance += (lamp_power * cos / d2)[..., None] * sodium
    for side in (-0.7, 0.7):  # own headlights, 0.7 m high, aimed 1 deg down
        src = np.array((side, 0.7, 0.0), np.float32)
        vec = pts - src
        d2 = np.maximum(np.sum(vec ** 2, -1), 0.25)
        d = np.sqrt(d2)
        off_axis = np.arccos(np.clip(vec[..., 2] / d, -1, 1))
        vert = np.arcsin(np.clip(vec[..., 1] / d, -1, 1)) + np.deg2rad(1.0)
        beam = np.exp(-(off_axis / np.deg2rad(20.0)) ** 2) * (vert < np.deg2rad(3.0))
        cos = np.clip(-np.sum(vec * normals, -1) / d, 0.0, 1.0)
        irradiance += (headlight_power * beam * cos / d2)[..., None]
    lin = albedo * (light[..., None] + irradiance)
    # the sky: a dark blue sky with the orange glow of the city near the horizon
    _, q = camera.rays(*depth.shape)
    glow = np.exp(-np.maximum(-q, 0) * 8.0)
    night_sky = (np.array((0.004, 0.006, 0.015), np.float32)
                 + glow[..., None] * np.array((0.03, 0.02, 0.012), np.float32))
    lin = np.where(sky[..., None], np.broadcast_to(night_sky, lin.shape) * ambient / 0.03,
                   lin)
    emission = _vehicle_lights(label, rng) + _windows(label, points, rng)
    for lamp in lamps:  # lamp heads, ~0.25 m wide
        x, y = camera.cx + camera.f * lamp[0] / lamp[2], \
            camera.cy + camera.f * (camera.height - lamp[1]) / lamp[2]
        r = max(0.25 * camera.f / lamp[2], 0.7)
        ys, xs = np.ogrid[0:depth.shape[0], 0:depth.shape[1]]
        head = (xs + 0.5 - x) ** 2 + (ys + 0.5 - y) ** 2 < r * r
        emission[head] = np.maximum(emission[head], sodium * 20.0)
    lin = lin + emission
    gain = min(target / max(float(lin.mean()), 1e-6), gain_max)
    electrons = rng.poisson(np.clip(lin, 0, None) * full_well).astype(np.float32)
    electrons += rng.normal(0.0, read_noise, electrons.shape).astype(np.float32)
    signal = electrons * gain / full_well
    signal = _glare(signal, camera.f)
    return _to_uint8(np.clip(signal, 0, 1) ** (1 / 2.2))
