"""The pinhole camera shared by the scene generator and every weather renderer.

ProcCity's camera looks horizontally (its optical axis is parallel to the street),
so the depth it stores, the coordinate ``Z`` along the optical axis, is also the
world's forward coordinate. Camera pitch is rendered as a vertical shift of the
principal point ``c_y`` (the horizon row), as a shift lens does, which keeps that
identity. A pixel ``(x, y)`` (centres at ``+0.5``) is the ray
``((x - c_x) / f, (y - c_y) / f, 1)``; the point at depth ``Z`` on it lies at the
Euclidean distance ``d = Z sqrt(1 + ((x - c_x) / f)^2 + ((y - c_y) / f)^2)`` from the
camera centre, which is the path length that Koschmieder's law attenuates over.

Cameras are stored per image in Cityscapes' own format,
``camera/{split}/<city>/<name>_camera.json`` with ``intrinsic.{fx, fy, u0, v0}`` and
``extrinsic.{x, y, z, pitch, yaw, roll, baseline}`` (``z`` is the height above the
road in metres), so real Cityscapes trees work the same way.
"""
import json
from dataclasses import dataclass

import numpy as np

__all__ = ['Camera', 'load_camera', 'save_camera', 'ray_distance', 'project', 'coc_diameter']


@dataclass(frozen=True)
class Camera:
    """A pinhole camera at height ``height`` above a flat road.

    Args:
        f (float): Focal length in pixels (square pixels).
        cx (float): Principal point column in pixels.
        cy (float): Principal point row in pixels (the horizon row of ProcCity).
        height (float): Camera height above the road in metres. Default: 1.5.
    """
    f: float
    cx: float
    cy: float
    height: float = 1.5

    @classmethod
    def default(cls, img_h, img_w):
        """The camera assumed for an image without a stored one: ``f = 0.9 W``,
        principal point at the image centre, 1.5 m high (mean ProcCity values)."""
        return cls(f=0.9 * img_w, cx=img_w / 2.0, cy=img_h / 2.0, height=1.5)

    def rays(self, img_h, img_w):
        """Normalised image coordinates ``((x - c_x) / f, (y - c_y) / f)`` of the
        pixel centres, as (1, W) and (H, 1) arrays (``y`` grows downwards)."""
        xs = np.arange(img_w, dtype=np.float32) + 0.5
        ys = np.arange(img_h, dtype=np.float32) + 0.5
        return ((xs - self.cx) / self.f)[None, :], ((ys - self.cy) / self.f)[:, None]

    def points(self, depth):
        """World points (X right, Y up from the road, Z forward) of a depth map,
        as an (H, W, 3) array (``inf`` for sky)."""
        p, q = self.rays(*depth.shape)
        return np.stack(np.broadcast_arrays(p * depth, self.height - q * depth, depth), -1)


def ray_distance(depth, camera):
    """Euclidean distance (m) from the camera centre to each pixel's point:
    ``d = Z sqrt(1 + p^2 + q^2)`` with ``(p, q)`` the normalised image coordinates.

    Args:
        depth (np.ndarray): (H, W) depth along the optical axis (m, ``inf`` = sky).
        camera (Camera): The image's camera.

    Returns:
        np.ndarray: (H, W) float32 distances (``inf`` stays ``inf``).
    """
    p, q = camera.rays(*depth.shape)
    return (depth * np.sqrt(1.0 + p ** 2 + q ** 2)).astype(np.float32)


def project(points, camera):
    """Pixel coordinates ``(x, y)`` of world points (..., 3) (X right, Y up, Z forward):
    ``x = c_x + f X / Z``, ``y = c_y + f (h - Y) / Z``."""
    pts = np.asarray(points, np.float64)
    z = pts[..., 2]
    return (camera.cx + camera.f * pts[..., 0] / z,
            camera.cy + camera.f * (camera.height - pts[..., 1]) / z)


def save_camera(path, camera):
    """Writes ``camera`` as a Cityscapes ``*_camera.json``."""
    data = dict(extrinsic=dict(baseline=0.0, pitch=0.0, roll=0.0, x=0.0, y=0.0,
                               yaw=0.0, z=float(camera.height)),
                intrinsic=dict(fx=float(camera.f), fy=float(camera.f), u0=float(camera.cx),
                               v0=float(camera.cy)))
    with open(path, 'w') as f:
        json.dump(data, f, indent=1)


def load_camera(path):
    """Reads a Cityscapes ``*_camera.json`` (``fx`` and ``fy`` must agree to 1 %)."""
    with open(path) as f:
        data = json.load(f)
    try:
        intr, extr = data['intrinsic'], data['extrinsic']
        fx, fy = float(intr['fx']), float(intr['fy'])
        cam = Camera(f=fx, cx=float(intr['u0']), cy=float(intr['v0']),
                     height=float(extr.get('z', 1.5)))
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f'{path}: not a Cityscapes camera file (needs intrinsic.fx, fy, '
                         f'u0, v0): {err}') from None
    if abs(fx - fy) > 0.01 * fx:
        raise ValueError(f'{path}: fx={fx} and fy={fy} differ; the renderers assume '
                         f'square pixels')
    return cam


def coc_diameter(distance, f_px, lens_focal=0.004, f_number=2.0, focus=np.inf):
    """Thin-lens circle of confusion (pixels) of points at ``distance`` (m).

    For a lens of focal length ``F`` and aperture ``A = F / N`` focused at ``S1``, a
    point at ``S2`` is imaged as a disc of diameter ``c = A |S2 - S1| / S2 * F /
    (S1 - F)`` on the sensor; in pixels (pitch ``F / f_px``) this is
    ``A f_px |S2 - S1| / (S2 (S1 - F))``, i.e. ``A f_px / S2`` when focused at
    infinity.

    Args:
        distance (float | np.ndarray): Object distance(s) ``S2`` (m, > 0).
        f_px (float): Focal length in pixels.
        lens_focal (float): Focal length ``F`` in metres (4 mm, a wide-angle
            automotive camera). Default: 0.004.
        f_number (float): ``N``. Default: 2.0.
        focus (float): Focus distance ``S1`` (m); ``inf`` focuses at infinity.
            Default: inf.
    """
    s2 = np.asarray(distance, np.float64)
    aperture = lens_focal / f_number
    if np.isinf(focus):
        return aperture * f_px / s2
    return aperture * f_px * np.abs(s2 - focus) / (s2 * (focus - lens_focal))
