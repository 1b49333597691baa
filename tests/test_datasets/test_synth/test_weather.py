"""Rain and fog rendering: physical relations and measured image changes."""
import cv2
import numpy as np
import pytest

from mmseg_ext.datasets.synth import (Camera, beta_tag, drop_flux, fog_beta, forward_scatter,
                                      marshall_palmer_slope, rain_extinction, ray_distance,
                                      render_fog, render_rain, render_scene,
                                      streak_displacement, terminal_velocity)
from mmseg_ext.datasets.synth.weather import forward_lobe_sigma, particle_alpha
from mmseg_ext.datasets.synth.labels import TRAIN_ID


def test_physical_relations():
    assert marshall_palmer_slope(1.0) == pytest.approx(4.1)
    assert marshall_palmer_slope(200) == pytest.approx(4.1 * 200 ** -0.21)
    # Atlas et al. 1973: ~9.1 m/s for 5 mm drops, ~4 m/s for 1 mm drops
    assert terminal_velocity(5.0) == pytest.approx(9.65 - 10.3 * np.exp(-3.0))
    assert terminal_velocity(1.0) == pytest.approx(4.0, abs=0.05)
    # pi N0 / Lambda^3: ~1.1 km visibility at 25 mm/h, ~0.3 km at 200 mm/h
    assert 2.996 / rain_extinction(25) == pytest.approx(1081, rel=0.01)
    assert 2.996 / rain_extinction(200) == pytest.approx(292, rel=0.01)
    assert rain_extinction(200) / rain_extinction(25) == pytest.approx(8 ** 0.63, rel=0.01)
    assert fog_beta(150) == pytest.approx(2.996 / 150)
    # the falling drop flux carries the rain rate: flux x drop volume = R
    for rate in (25, 200):
        lam = marshall_palmer_slope(rate)
        d = np.linspace(0.0, 12.0, 24001)
        n = 8000 * np.exp(-lam * d) * np.maximum(terminal_velocity(d) * (d > 0.05), 0)
        vol = np.pi / 6 * d ** 3 * 1e-9  # m^3
        rate_back = np.trapezoid(n * vol, d) * 3600 * 1000
        assert rate_back == pytest.approx(rate, rel=0.15)
        assert drop_flux(rate) == pytest.approx(np.trapezoid(
            8000 * np.exp(-lam * d) * (9.65 - 10.3 * np.exp(-0.6 * d)), d), rel=1e-3)
    assert drop_flux(200, ego_speed=8.0, d_min=0.5) > 2 * drop_flux(200, d_min=0.5)
    assert [beta_tag(v) for v in (750, 375, 150, 75)] == ['0.004', '0.008', '0.02', '0.04']


def test_bad_rates():
    img, _, depth = render_scene(0, 32, 64)
    with pytest.raises(ValueError, match='rain rate must be > 0 mm/h, got 0'):
        render_rain(img, depth, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match='fog visibility must be > 0 m, got -5'):
        render_fog(img, depth, -5)
    with pytest.raises(ValueError, match=r'depth shape \(10, 10\) does not match'):
        render_fog(img, depth[:10, :10], 150)


def _local_contrast(img, mask):
    """Mean |I - blur(I)| of the grey image over ``mask``: contrast and sharpness."""
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 2))[mask].mean())


def test_rain_200_changes_more_than_25():
    changed = {25: [], 200: []}
    contrast = {0: [], 25: [], 200: []}
    for seed in range(3):
        img, label, depth = render_scene(seed, 64, 128)
        mask = label != TRAIN_ID['sky']
        contrast[0].append(_local_contrast(img, mask))
        for rate in (25, 200):
            out = render_rain(img, depth, rate, np.random.default_rng(seed))
            changed[rate].append(np.mean(np.abs(out.astype(int) - img).max(2) > 8))
            contrast[rate].append(_local_contrast(out, mask))
    frac = {r: float(np.mean(v)) for r, v in changed.items()}
    lc = {r: float(np.mean(v)) for r, v in contrast.items()}
    # measured on these scenes: 21 % of the pixels change by > 8 grey levels at
    # 25 mm/h, 58 % at 200 mm/h (half of the extinguished light arrives in the
    # forward lobe, the other half is veil); local contrast 7.5 (clear), 7.3
    # (25 mm/h), 6.7 (200 mm/h: the veil and the drops win)
    assert frac[25] == pytest.approx(0.21, abs=0.1)
    assert frac[200] == pytest.approx(0.58, abs=0.1)
    assert lc[25] > lc[200]
    assert lc[200] / lc[0] < 0.95


def test_rain_deterministic_per_seed():
    img, _, depth = render_scene(1, 32, 64)
    a = render_rain(img, depth, 100, np.random.default_rng(5))
    b = render_rain(img, depth, 100, np.random.default_rng(5))
    c = render_rain(img, depth, 100, np.random.default_rng(6))
    assert a.tobytes() == b.tobytes() and a.tobytes() != c.tobytes()


def test_fog_koschmieder():
    img = np.full((4, 4, 3), 20, np.uint8)
    depth = np.full((4, 4), 150.0, np.float32)
    depth[0, 0] = np.inf
    out = render_fog(img, depth, 150, airlight=np.array([0.8, 0.8, 0.8]))
    t = np.exp(-2.996)  # exactly the 5 % contrast threshold at the visibility
    expect = 20 / 255 * t + 0.8 * (1 - t)
    assert out[1, 1, 0] == int(expect * 255 + 0.5)
    assert out[0, 0, 0] == int(0.8 * 255 + 0.5)  # sky: only airlight


def test_fog_uses_distance_not_depth():
    cam = Camera(f=64.0, cx=32.0, cy=16.0, height=1.5)
    img = np.full((32, 64, 3), 200, np.uint8)
    depth = np.full((32, 64), 100.0, np.float32)
    out = render_fog(img, depth, 150, airlight=np.zeros(3), camera=cam).astype(float)
    d = ray_distance(depth, cam)
    expect = 200 / 255 * np.exp(-2.996 / 150 * d) * 255
    np.testing.assert_allclose(out[..., 0], expect, atol=0.51)
    # corners are ~12 % farther than the depth: darker than the centre by exp(-beta dd)
    assert out[0, 0, 0] < out[16, 32, 0] - 5


def test_forward_scatter_conserves_energy():
    rng = np.random.default_rng(0)
    x = rng.random((24, 48, 3)).astype(np.float32)
    dist = np.full((24, 48), 300.0, np.float32)
    a = np.array([0.7, 0.7, 0.7], np.float32)
    beta = rain_extinction(200)
    out = forward_scatter(x, dist, beta, a, sigma=1.5, eta=0.5)
    t = np.exp(-beta * 300.0)
    blurred = cv2.GaussianBlur(x, (0, 0), 1.5)
    np.testing.assert_allclose(out, t * x + (1 - t) * (0.5 * blurred + 0.5 * a), atol=1e-6)
    # a uniform scene equal to the airlight is left unchanged (weights sum to one)
    flat = np.full_like(x, 0.7)
    np.testing.assert_allclose(forward_scatter(flat, dist, beta, a, 1.5), flat, atol=1e-6)
    # the blur conserves the mean: the image mean is t m + (1 - t)(eta m + (1 - eta) A)
    m = float(x.mean())
    assert float(out.mean()) == pytest.approx(t * m + (1 - t) * (0.5 * m + 0.35), abs=2e-3)
    # the diffraction lobe of rain drops is narrow: 0.42 lambda Lambda / 3 rad
    lam = marshall_palmer_slope(25)
    assert forward_lobe_sigma(25, 230.0) == pytest.approx(
        230.0 * 0.42 * 550e-9 / (3.0 / lam * 1e-3))


def test_streaks_carry_ego_motion():
    cam = Camera(f=200.0, cx=100.0, cy=50.0, height=1.5)
    x0 = np.array([100.0, 180.0, 20.0, 100.0])
    y0 = np.array([50.0, 50.0, 90.0, 10.0])
    z = np.full(4, 1.0)
    still_dx, still_dy = streak_displacement(x0, y0, z, cam, 5.0, 1.0, 0.0, 1 / 200)
    # without ego-motion: f (wind, v) T / Z, the same everywhere
    np.testing.assert_allclose(still_dx, 200 * 1.0 / 200, rtol=1e-9)
    np.testing.assert_allclose(still_dy, 200 * 5.0 / 200, rtol=1e-9)
    dx, dy = streak_displacement(x0, y0, z, cam, 5.0, 0.0, 10.0, 1 / 200)
    # the exact end point: X, Y fixed + fall, Z - v_ego T (independent projection)
    p, q = (x0 - 100.0) / 200.0, (y0 - 50.0) / 200.0
    z1 = 1.0 - 10.0 / 200
    np.testing.assert_allclose(dx, 200 * p * 1.0 / z1 - (x0 - 100.0), rtol=1e-9)
    np.testing.assert_allclose(dy, 200 * (q * 1.0 + 5.0 / 200) / z1 - (y0 - 50.0), rtol=1e-9)
    # linearised flow (p, q) f v_ego T / Z away from the focus of expansion, within 6 %
    np.testing.assert_allclose(dx[1:3], (p * 200 * 10.0 / 200)[1:3], rtol=0.06)
    assert dx[0] == 0.0 and dx[1] > 0 > dx[2]  # radial: right of the FOE goes right
    assert dy[3] < still_dy[3]  # above the FOE ego-motion pushes the streak up


def test_rain_camera_matches_scene_camera():
    img, label, depth, cam = render_scene(2, 64, 128, with_camera=True)
    a = render_rain(img, depth, 100, np.random.default_rng(1), camera=cam, glass_exposure=0)
    b = render_rain(img, depth, 100, np.random.default_rng(1), camera=Camera.default(64, 128),
                    glass_exposure=0)
    assert cam.f != pytest.approx(0.9 * 128)  # scene focal lengths vary per scene
    assert a.tobytes() != b.tobytes()  # the camera passed is the one rendered with


def test_streak_defocus_keeps_opacity():
    depth = np.full((60, 120), np.inf, np.float32)
    cam = Camera(f=120.0, cx=60.0, cy=30.0)
    x0, y0 = np.array([60.0]), np.array([30.0])
    z, dia = np.array([0.3]), np.array([3.0])
    sharp = particle_alpha(depth, cam, x0, y0, z, dia, np.array([0.0]), 0.0, 0.0, 1 / 200,
                           f_number=1e9)
    blurred = particle_alpha(depth, cam, x0, y0, z, dia, np.array([0.0]), 0.0, 0.0, 1 / 200,
                             f_number=0.25)
    # d = 1.2 px; CoC = 16 mm x 120 / 0.3 = 6.4 px: spread over >= 6 x 6 pixels, fainter,
    # the integrated opacity d^2 = 1.44 px^2 kept
    assert (sharp > 0).sum() == 4 and (blurred > 0).sum() >= 36
    assert blurred.max() < 0.4 * sharp.max()
    assert sharp.sum() == pytest.approx(1.44, rel=1e-5)
    assert blurred.sum() == pytest.approx(1.44, rel=1e-5)
