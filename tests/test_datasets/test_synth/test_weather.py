"""Rain and fog rendering: physical relations and measured image changes."""
import cv2
import numpy as np
import pytest

from mmseg_ext.datasets.synth import (beta_tag, drop_flux, fog_beta, marshall_palmer_slope,
                                      rain_extinction, render_fog, render_rain, render_scene,
                                      terminal_velocity)
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
