"""The shared camera: ray distance, projection, Cityscapes camera files, thin-lens CoC."""
import json

import numpy as np
import pytest

from mmseg_ext.datasets.synth import Camera, coc_diameter, load_camera, ray_distance, save_camera
from mmseg_ext.datasets.synth.camera import project


def test_ray_distance_is_euclidean():
    cam = Camera(f=100.0, cx=40.0, cy=20.0, height=1.5)
    depth = np.full((40, 80), 10.0, np.float32)
    depth[0, 0] = np.inf
    d = ray_distance(depth, cam)
    # pixel (79, 39): centre (79.5, 39.5) -> point (3.95, -1.95 below the axis, 10)
    x, y = 3.95, 1.95
    assert d[39, 79] == pytest.approx(np.sqrt(x * x + y * y + 100.0), rel=1e-6)
    assert d[39, 79] / 10.0 == pytest.approx(1.0927, abs=1e-4)  # 9.3 % beyond the depth
    assert d[20, 40] == pytest.approx(10.0 * np.sqrt(1 + 0.005 ** 2 * 2), rel=1e-6)
    assert np.isinf(d[0, 0])
    # the world points of the depth map lie at exactly that distance
    pts = cam.points(depth)
    rel = pts[39, 79] - (0.0, cam.height, 0.0)
    assert np.linalg.norm(rel) == pytest.approx(d[39, 79], rel=1e-6)


def test_project_inverts_points():
    cam = Camera(f=230.4, cx=128.0, cy=55.0, height=1.6)
    depth = np.random.default_rng(0).uniform(2, 80, (8, 16)).astype(np.float32)
    x, y = project(cam.points(depth), cam)
    xs, ys = np.meshgrid(np.arange(16) + 0.5, np.arange(8) + 0.5)
    np.testing.assert_allclose(x, xs, atol=1e-4)
    np.testing.assert_allclose(y, ys, atol=1e-4)


def test_camera_file_roundtrip(tmp_path):
    cam = Camera(f=230.0, cx=127.0, cy=60.5, height=1.9)
    save_camera(str(tmp_path / 'c.json'), cam)
    data = json.loads((tmp_path / 'c.json').read_text())
    assert data['intrinsic'] == dict(fx=230.0, fy=230.0, u0=127.0, v0=60.5)
    assert data['extrinsic']['z'] == 1.9
    assert load_camera(str(tmp_path / 'c.json')) == cam
    (tmp_path / 'bad.json').write_text('{"intrinsic": {"fx": 1}}')
    with pytest.raises(ValueError, match='bad.json: not a Cityscapes camera file'):
        load_camera(str(tmp_path / 'bad.json'))


def test_thin_lens_circle_of_confusion():
    # focused at infinity: c = A f_px / S2 with A = F / N = 2 mm
    assert coc_diameter(0.1, 230.0) == pytest.approx(0.002 * 230.0 / 0.1)  # 4.6 px
    assert coc_diameter(1.0, 230.0) == pytest.approx(0.46)
    # focused at 10 m, point at 2 m: A |S2 - S1| / S2 * F / (S1 - F) on the sensor,
    # over the pixel pitch F / f_px (F = 4 mm, N = 2, f_px = 1000)
    sensor = 0.002 * 8.0 / 2.0 * 0.004 / (10.0 - 0.004)
    assert coc_diameter(2.0, 1000.0, focus=10.0) == pytest.approx(sensor / (0.004 / 1000.0))
    assert coc_diameter(10.0, 1000.0, focus=10.0) == 0.0
