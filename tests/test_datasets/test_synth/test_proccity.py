"""ProcCity scene rendering: determinism, classes, depth geometry."""
import numpy as np
import pytest
from cityscapesscripts.helpers.labels import trainId2label
from mmseg.datasets import CityscapesDataset

from mmseg_ext.datasets.synth import CLASS_NAMES, PALETTE, TRAIN_ID, render_scene


def test_label_table_is_cityscapes():
    assert CLASS_NAMES == tuple(CityscapesDataset.CLASSES)
    assert [list(c) for c in PALETTE] == CityscapesDataset.PALETTE
    assert all(trainId2label[i].name == n for n, i in TRAIN_ID.items())


def test_same_seed_same_bytes_other_seed_differs():
    a = render_scene(7, 48, 96)
    b = render_scene(7, 48, 96)
    c = render_scene(8, 48, 96)
    for x, y in zip(a, b):
        assert x.tobytes() == y.tobytes()
    assert a[0].tobytes() != c[0].tobytes()
    img, label, depth = a
    assert img.shape == (48, 96, 3) and img.dtype == np.uint8
    assert label.shape == (48, 96) and label.dtype == np.uint8
    assert depth.shape == (48, 96) and depth.dtype == np.float32


def test_all_19_classes_long_tailed():
    counts = np.zeros(256, np.int64)
    for seed in range(48):  # the first tram appears in scene 40 (trams are rare)
        counts += np.bincount(render_scene(seed, 48, 96)[1].ravel(), minlength=256)
    assert counts[19:255].sum() == 0  # trainIds, and 255 (void: bins) as in Cityscapes
    assert 0 < counts[255] < 0.01 * counts.sum()
    present = np.nonzero(counts[:19])[0]
    assert present.tolist() == list(range(19))
    freq = counts[:19] / counts[:19].sum()
    # road/building dominate, the rarest classes are below 0.5 % of the pixels
    assert freq[TRAIN_ID['road']] > 0.2 and freq[TRAIN_ID['building']] > 0.1
    assert sorted(freq)[3] < 0.005


def test_depth_monotone_along_the_road():
    checked = 0
    for seed in range(6):
        _, label, depth = render_scene(seed, 64, 128)
        for col in (48, 64, 80):
            rows = np.nonzero(label[:, col] == TRAIN_ID['road'])[0]
            rows = rows[rows > rows.max() - 15]  # the contiguous near part
            d = depth[rows, col]
            # farther up the image is farther away: depth strictly decreasing with row
            assert np.all(np.diff(d) < 0), (seed, col)
            checked += 1
    assert checked == 18
    assert np.isinf(render_scene(0, 64, 128)[2][0]).any()  # sky has infinite depth


def test_sky_above_horizon_has_no_ground():
    _, label, depth = render_scene(3, 64, 128)
    assert np.all(np.isinf(depth[label == TRAIN_ID['sky']]))
    assert np.all(np.isfinite(depth[label != TRAIN_ID['sky']]))


def test_too_small_size():
    with pytest.raises(ValueError, match='at least 16x16, got 8x64'):
        render_scene(0, 8, 64)


def test_target_city_differs_from_source():
    freq = {}
    for style in ('source', 'target'):
        counts = np.zeros(256, np.int64)
        for seed in range(24):
            counts += np.bincount(render_scene(seed, 48, 96, style=style)[1].ravel(),
                                  minlength=256)
        freq[style] = counts[:19] / counts[:19].sum()
    src, tgt = freq['source'], freq['target']
    # measured (24 scenes, 48x96): road 40 % vs 33 %, sky 8.3 % vs 1.7 %,
    # vegetation 7.7 % vs 11.8 %, person 0.8 % vs 2.6 %
    assert tgt[TRAIN_ID['road']] < src[TRAIN_ID['road']] - 0.04
    assert tgt[TRAIN_ID['sky']] < 0.5 * src[TRAIN_ID['sky']]
    assert tgt[TRAIN_ID['vegetation']] > 1.3 * src[TRAIN_ID['vegetation']]
    assert tgt[TRAIN_ID['person']] > 2 * src[TRAIN_ID['person']]
    assert 0.5 * np.abs(src - tgt).sum() > 0.12  # total-variation distance of the mixes
    # the same seed gives another image in the other style; the source is the default
    a, b = render_scene(3, 48, 96), render_scene(3, 48, 96, style='target')
    assert np.abs(a[0].astype(int) - b[0]).mean() > 20
    assert render_scene(3, 48, 96, style='source')[0].tobytes() == a[0].tobytes()
    with pytest.raises(ValueError, match="unknown ProcCity style 'night'"):
        render_scene(3, 48, 96, style='night')


def test_camera_matches_depth_geometry():
    img, label, depth, cam = render_scene(5, 64, 128, with_camera=True)
    # road points lie on the plane Y = 0 of the camera at its height
    road = label == TRAIN_ID['road']
    pts = cam.points(depth)
    assert np.abs(pts[road][:, 1]).max() < 1e-3
    assert 1.2 <= cam.height <= 2.2 and 0.8 * 128 <= cam.f <= 1.0 * 128
