"""Refracting water drops on the windscreen / lens cover, seen out of focus.

A drop sitting on the glass is a small plano-convex lens: it forms an inverted,
demagnified image of the scene behind it (Roser & Geiger, "Video-based raindrop
detection for improved image registration", ICCV-W 2009; Halimeh & Roser,
"Raindrop detection on car windshields using geometric-photometric environment
construction and intensity-based correlation", IV 2009). Modelled here as a
ball-lens mapping: the pixel at normalised offset ``rho = (p - c) / r`` inside a drop
of centre ``c`` and radius ``r`` shows the scene at ``c - m r rho``, i.e. the scene
flipped through the drop centre and shrunk ``m`` times (the drop's wide field of
view); the rim, where rays meet the surface at grazing angles and are partly
reflected, is darkened by the Schlick approximation of the Fresnel reflectance
``R = R0 + (1 - R0)(1 - cos theta)^5`` with ``cos theta = sqrt(1 - rho^2)``.

The camera focuses at distance, so the glass at ``glass_distance`` is out of
focus: the drop layer (its colour and its coverage) is convolved with the thin-lens
circle of confusion (:func:`.camera.coc_diameter`), a uniform disc.
"""
import numpy as np

from .camera import coc_diameter

__all__ = ['refract_drops', 'disc_blur', 'LENSDROP_SEVERITY', 'render_lensdrops']

#: Severity 1..5 -> (mean number of drops in a 1:2 frame, mean drop radius on the
#: glass in mm).
LENSDROP_SEVERITY = {1: (5, 2.0), 2: (9, 2.6), 3: (14, 3.2), 4: (20, 3.8), 5: (28, 4.5)}


def disc_blur(x, diameter):
    """Convolution with a uniform disc of ``diameter`` pixels (the thin-lens
    point-spread function); identity below one pixel."""
    import cv2
    if diameter < 1.0:
        return x
    r = diameter / 2.0
    k = int(np.ceil(r))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    kernel = (xx ** 2 + yy ** 2 <= r * r + 0.5).astype(np.float32)
    kernel /= kernel.sum()
    return cv2.filter2D(x, -1, kernel, borderType=cv2.BORDER_REFLECT)


def refract_drops(x, centres, radii, magnification=4.0, r0=0.02):
    """Sharp drop layer: refracted colour and coverage of drops on the glass.

    Args:
        x (np.ndarray): (H, W, 3) float image in [0, 1] (the scene behind the glass).
        centres (np.ndarray): (N, 2) drop centres ``(x, y)`` in pixels.
        radii (np.ndarray): (N,) drop radii in pixels.
        magnification (float): ``m``: the drop shows a scene disc ``m`` times its
            own radius, inverted. Default: 4.0.
        r0 (float): Fresnel reflectance at normal incidence (water: 0.02).
            Default: 0.02.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``colour`` (H, W, 3) premultiplied by the
        coverage and ``coverage`` (H, W) in [0, 1].
    """
    h, w = x.shape[:2]
    colour = np.zeros_like(x)
    cover = np.zeros((h, w), np.float32)
    for (px, py), r in zip(np.asarray(centres, np.float64), np.asarray(radii, np.float64)):
        r0_, r1_ = int(max(np.floor(py - r), 0)), int(min(np.ceil(py + r) + 1, h))
        c0_, c1_ = int(max(np.floor(px - r), 0)), int(min(np.ceil(px + r) + 1, w))
        if r0_ >= r1_ or c0_ >= c1_ or r <= 0:
            continue
        yy, xx = np.mgrid[r0_:r1_, c0_:c1_].astype(np.float64) + 0.5
        rx, ry = (xx - px) / r, (yy - py) / r
        rho2 = rx ** 2 + ry ** 2
        inside = rho2 < 1.0
        if not inside.any():
            continue
        sx = np.clip(px - magnification * r * rx, 0, w - 1).astype(np.int64)
        sy = np.clip(py - magnification * r * ry, 0, h - 1).astype(np.int64)
        cos_t = np.sqrt(np.clip(1.0 - rho2, 0.0, 1.0))
        transmit = 1.0 - (r0 + (1.0 - r0) * (1.0 - cos_t) ** 5)
        seen = x[sy, sx] * transmit[..., None]
        sl = (slice(r0_, r1_), slice(c0_, c1_))
        m = inside & (cover[sl] == 0)  # first drop wins where drops touch
        colour[sl][m] = seen[m]
        cover[sl][m] = 1.0
    return colour, cover


def composite_drops(x, centres, radii, defocus, magnification=4.0):
    """The scene seen through refracting drops on the glass, defocused by a disc of
    ``defocus`` pixels (see the module docstring)."""
    colour, cover = refract_drops(x, centres, radii, magnification)
    colour, cover = disc_blur(colour, defocus), disc_blur(cover, defocus)
    return x * (1.0 - cover[..., None]) + colour


def render_lensdrops(img, camera, severity, rng, glass_distance=0.12, lens_focal=0.004,
                     f_number=2.0, magnification=4.0):
    """Drops on the lens cover / windscreen at ``severity`` 1..5 (no rain in the
    air): ``LENSDROP_SEVERITY`` gives the drop density and mean radius.

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB image.
        camera (Camera): The image's camera (its focal length scales the drops).
        severity (int): 1 (few small drops) .. 5 (many large drops).
        rng (np.random.Generator): Drop positions and sizes.
        glass_distance (float): Glass distance from the lens (m). Default: 0.12.
        lens_focal (float): Lens focal length (m) of the thin-lens defocus.
            Default: 0.004.
        f_number (float): Lens f-number. Default: 2.0.
        magnification (float): Demagnification of the refracted view. Default: 4.0.
    """
    from .weather import _to_float, _to_uint8
    x = _to_float(img)
    h, w = x.shape[:2]
    density, radius_mm = LENSDROP_SEVERITY[check_severity(severity)]
    n = rng.poisson(density * (h / w) * 2.0)  # densities are per 1:2 frame
    radii = rng.gamma(4.0, radius_mm / 4.0, n) * 1e-3 * camera.f / glass_distance
    centres = np.stack([rng.random(n) * w, rng.random(n) * h], 1)
    defocus = float(coc_diameter(glass_distance, camera.f, lens_focal, f_number))
    return _to_uint8(composite_drops(x, centres, radii, defocus, magnification))


def check_severity(severity):
    """The severity as an int in 1..5, or a ValueError naming it."""
    if isinstance(severity, bool) or int(severity) != severity or not 1 <= severity <= 5:
        raise ValueError(f'severity must be an integer in 1..5, got {severity!r}')
    return int(severity)
