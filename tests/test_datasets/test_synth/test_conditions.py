"""Graded conditions (night, wet, snow, lens drops, motion blur): measured properties."""
import numpy as np
import pytest

from mmseg_ext.datasets.synth import (CONDITIONS, TRAIN_ID, Camera, render_condition,
                                      render_rain, render_rain_scene, render_scene)
from mmseg_ext.datasets.synth.lens import composite_drops, refract_drops
from mmseg_ext.datasets.synth.motion import MOTION_SEVERITY, forward_flow, render_motionblur
from mmseg_ext.datasets.synth.night import render_night
from mmseg_ext.datasets.synth.surface import (mirror_reflection, rain_wetness, render_wet,
                                              snow_cover, water_film_depth)

HORIZONTAL = [TRAIN_ID['road'], TRAIN_ID['sidewalk'], TRAIN_ID['terrain']]


@pytest.fixture(scope='module')
def scenes():
    return [render_scene(seed, 64, 128, with_camera=True) for seed in range(6)]


def test_night_darker_and_noisier_with_severity(scenes):
    lum = [np.mean([render_condition('night', img, lab, dep, cam, s,
                                     np.random.default_rng(0)).mean()
                    for img, lab, dep, cam in scenes[:3]]) for s in range(1, 6)]
    clear = np.mean([img.mean() for img, *_ in scenes[:3]])
    # measured: clear 93, night 1..5: 64 / 56 / 51 / 48 / 47 grey levels
    assert clear > lum[0] + 20
    assert all(a > b for a, b in zip(lum, lum[1:]))
    assert lum[0] - lum[-1] > 12
    # sensor noise on a uniform grey wall 20 m away: two noise draws differ by
    # sqrt(2) sigma; measured sigma 5.1 / 7.0 / 11.7 / 17.7 / 21.0 grey levels
    cam = Camera(f=64.0, cx=32.0, cy=16.0)
    img = np.full((32, 64, 3), 128, np.uint8)
    lab = np.full((32, 64), TRAIN_ID['wall'], np.uint8)
    dep = np.full((32, 64), 20.0, np.float32)
    sigma = []
    for s in range(1, 6):
        a, b = (render_night(img, lab, dep, cam, s, np.random.default_rng(k)).astype(float)
                for k in (1, 2))
        sigma.append(float((a - b).std() / np.sqrt(2)))
    assert all(a < b for a, b in zip(sigma, sigma[1:]))
    assert sigma[0] == pytest.approx(5.1, abs=1.5) and sigma[-1] == pytest.approx(21.0, abs=4)


def _mirror_scene():
    """A red wall (10 m) on the upper half, a grey road below; the camera 1.5 m high."""
    cam = Camera(f=64.0, cx=32.0, cy=16.0, height=1.5)
    lab = np.full((32, 64), TRAIN_ID['road'], np.uint8)
    dep = np.empty((32, 64), np.float32)
    _, q = cam.rays(32, 64)
    dep[:] = np.where(q > 0, 1.5 / np.maximum(q, 1e-6), 10.0)
    lab[dep >= 10.0] = TRAIN_ID['wall']
    dep = np.minimum(dep, 10.0)
    img = np.where((lab == TRAIN_ID['wall'])[..., None], [200, 20, 20], [90, 90, 90])
    return img.astype(np.uint8), lab, dep, cam


def test_wet_road_reflects_only_on_road(scenes):
    img, lab, dep, cam = _mirror_scene()
    refl, valid = mirror_reflection(img.astype(np.float32) / 255, lab, dep, cam)
    # the wall's foot is at row 16 + 64 x 1.5 / 10 = 25.6; its mirror image fills
    # the road below: a wall point at height Y shows at y + 2 f Y / Z
    assert valid[26:].all() and not valid[:25].any()
    assert np.abs(refl[valid] - np.array([200, 20, 20]) / 255).max() < 1e-6
    wet = render_wet(img, lab, dep, cam, 5, np.random.default_rng(0)).astype(int)
    assert (wet[26:, :, 0] - wet[26:, :, 1]).mean() > 5  # the red wall shows on the road
    np.testing.assert_array_equal(wet[lab != TRAIN_ID['road']], img[lab != TRAIN_ID['road']])
    # on real scenes: only road and sidewalk pixels change; sidewalks by sqrt(a) exactly
    for img, lab, dep, cam in scenes[:3]:
        out = render_wet(img, lab, dep, cam, 3, np.random.default_rng(0))
        other = ~np.isin(lab, [TRAIN_ID['road'], TRAIN_ID['sidewalk']])
        np.testing.assert_array_equal(out[other], img[other])
        side = lab == TRAIN_ID['sidewalk']
        expect = np.clip(img[side] / 255 * np.sqrt(0.65), 0, 1) * 255 + 0.5
        assert np.abs(out[side].astype(int) - expect.astype(int)).max() <= 1


def test_snow_cover_grows_with_severity(scenes):
    frac = []
    for s in range(1, 6):
        cov = [snow_cover(lab, dep, cam, s, np.random.default_rng(0))[np.isin(lab, HORIZONTAL)]
               .mean() for _, lab, dep, cam in scenes]
        frac.append(float(np.mean(cov)))
    # measured on these 6 scenes: 0.07 / 0.15 / 0.30 / 0.50 / 0.65
    assert all(a < b for a, b in zip(frac, frac[1:]))
    assert frac[0] < 0.15 and frac[-1] > 0.55
    _, lab, dep, cam = scenes[0]
    tops = snow_cover(lab, dep, cam, 5, np.random.default_rng(0)) & (lab == TRAIN_ID['car'])
    assert tops.any()  # car roofs carry snow
    assert not (snow_cover(lab, dep, cam, 5, np.random.default_rng(0))
                & (lab == TRAIN_ID['sky'])).any()


def test_lens_drop_shows_the_flipped_scene():
    h, w = 64, 128
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    x = np.stack([xs / w, ys / h, np.zeros_like(xs)], -1)  # colour encodes position
    colour, cover = refract_drops(x, np.array([[64.0, 32.0]]), np.array([6.0]),
                                  magnification=4.0)
    # pixel (66.5, 29.5) sits at offset (+2.5, -2.5) from the centre: it shows the
    # scene at the centre minus 4 x offset = (54, 42), i.e. left-right and up-down flipped
    rho2 = (2.5 ** 2 + 2.5 ** 2) / 36
    transmit = 1 - (0.02 + 0.98 * (1 - np.sqrt(1 - rho2)) ** 5)
    np.testing.assert_allclose(colour[29, 66, :2], np.array([54 / w, 42 / h]) * transmit,
                               atol=1e-6)
    assert cover[32, 64] == 1 and cover[32, 72] == 0
    # flipped: the red channel (x position) decreases left to right across the drop
    row = colour[32, 60:69, 0]
    assert np.all(np.diff(row) < 0)
    # defocus spreads the drop but keeps its coverage (disc kernel sums to one)
    blurred = composite_drops(x, np.array([[64.0, 32.0]]), np.array([6.0]), defocus=5.0)
    sharp = composite_drops(x, np.array([[64.0, 32.0]]), np.array([6.0]), defocus=0.0)
    assert np.abs(blurred - x).sum() < np.abs(sharp - x).sum() * 1.2
    assert (np.abs(blurred - x).max(-1) > 1e-4).sum() > (np.abs(sharp - x).max(-1) > 1e-4).sum()


def test_motion_blur_zero_at_focus_of_expansion():
    cam = Camera(f=100.0, cx=64.0, cy=32.0)
    depth = np.full((64, 128), 10.0, np.float32)
    u, v = forward_flow(depth, cam, 0.5)
    # u = x T / (Z - T) with x = 63.5 px from the centre: 63.5 x 0.5 / 9.5
    assert u[32, 127] == pytest.approx(63.5 * 0.5 / 9.5, rel=1e-5)
    assert abs(u[32, 64]) < 0.03 and abs(v[32, 64]) < 0.03
    img = (np.random.default_rng(0).random((64, 128, 3)) * 255).astype(np.uint8)
    # severity 1: 0.15 m forward, no turn; a wall 2 m ahead (flow 0.088 r)
    out = render_motionblur(img, np.full_like(depth, 2.0), cam, 1, np.random.default_rng(0),
                            samples=12)
    diff = np.abs(out.astype(float) - img).mean(-1)
    yy, xx = np.mgrid[0:64, 0:128]
    r = np.hypot(xx + 0.5 - 64, yy + 0.5 - 32)
    rings = [diff[(r >= a) & (r < b)].mean() for a, b in ((0, 3), (10, 20), (40, 60))]
    # measured: 7.1 (sub-pixel flow, r < 3 px) / 44.5 / 56.6 grey levels
    assert rings[0] < 10 and 4 * rings[0] < rings[1] < rings[2]


def test_motion_blur_severity_is_speed_times_exposure():
    travel = [MOTION_SEVERITY[s][0] for s in range(1, 6)]
    assert travel == sorted(travel) and len(set(travel)) == 5
    # 4: 110 km/h at 1/30 s; 5: the same speed and turn rate at 1/15 s (twice as long)
    assert travel[3] == pytest.approx(110 / 3.6 / 30, rel=0.02)
    assert MOTION_SEVERITY[5] == tuple(2 * x for x in MOTION_SEVERITY[4])


@pytest.mark.parametrize('name', CONDITIONS)
def test_deterministic_and_graded(name, scenes):
    img, lab, dep, cam = scenes[1]
    a = render_condition(name, img, lab, dep, cam, 4, np.random.default_rng(3))
    b = render_condition(name, img, lab, dep, cam, 4, np.random.default_rng(3))
    assert a.tobytes() == b.tobytes() and a.shape == img.shape and a.dtype == np.uint8
    change = [np.abs(render_condition(name, img, lab, dep, cam, s, np.random.default_rng(3))
                     .astype(int) - img).mean() for s in (1, 5)]
    assert change[1] > change[0] > 0


def test_bad_condition_and_severity(scenes):
    img, lab, dep, cam = scenes[0]
    with pytest.raises(ValueError, match='severity must be an integer in 1..5, got 6'):
        render_condition('night', img, lab, dep, cam, 6, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown condition 'hail'"):
        render_condition('hail', img, lab, dep, cam, 1, np.random.default_rng(0))


def test_water_film_depth_is_gallaways_relation():
    # Gallaway et al. (1979), metric: WFD = 0.046 T^0.11 L^0.43 I^0.59 / S^0.42 - T,
    # evaluated by hand for T = 0.5 mm, L = 7.3 m, S = 2 %
    for rate in (50.0, 100.0, 200.0):
        expected = 0.046 * 0.5 ** 0.11 * 7.3 ** 0.43 * rate ** 0.59 / 2.0 ** 0.42 - 0.5
        assert water_film_depth(rate) == pytest.approx(expected, rel=1e-12)
    assert water_film_depth(200.0) == pytest.approx(1.206, abs=1e-3)
    assert water_film_depth(25.0) < 1e-3  # the texture holds a light rain
    assert water_film_depth(10.0) == 0.0
    # a steeper road drains faster, a longer flow path collects more water
    assert water_film_depth(100.0, cross_slope=4.0) < water_film_depth(100.0)
    assert water_film_depth(100.0, drainage_length=10.0) > water_film_depth(100.0)


def test_rain_wetness_grows_with_the_rate():
    assert [rain_wetness(r) for r in (25, 50, 75, 100, 200)] == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match='rain rate must be > 0 mm/h, got 0'):
        rain_wetness(0)


def test_rain_scene_is_rain_over_the_wet_road(scenes):
    img, lab, dep, cam = scenes[0]
    out = render_rain_scene(img, lab, dep, cam, 200, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    wet = render_wet(img, lab, dep, cam, 5, rng)
    assert np.array_equal(out, render_rain(wet, dep, 200, rng, camera=cam))
    # the flooded road differs from rain over the dry road; the sky does not
    dry = render_rain(img, dep, 200, np.random.default_rng(3), camera=cam)
    road = lab == TRAIN_ID['road']
    assert np.abs(out[road].astype(int) - dry[road].astype(int)).mean() > 5
