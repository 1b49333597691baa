"""SourceDataset: rare-class sampling (DAFormer) and resumable, seeded draws."""
import json
import os.path as osp

import numpy as np
import pytest
from dataset_trees import TRAIN_PIPELINE, image, write_png
from mmseg.datasets import build_dataset

from mmseg_ext.datasets.rare_class_sampling import (compute_class_stats, rcs_class_probs,
                                                    write_class_stats)

H, W = 16, 32
RARE, MID = 18, 13


@pytest.fixture
def skewed_tree(tmp_path):
    """10 images of road (0) and building (2); 2 hold 40 px of bicycle (18), 4 hold
    100 px of car (13)."""
    root = str(tmp_path / 'src')
    for i in range(10):
        lab = np.zeros((H, W), np.uint8)
        lab[:4] = 2
        if i < 2:
            lab[8:12, :10] = RARE
        elif i < 6:
            lab[6:16, 10:20] = MID
        name = f'city_{i:06d}_000019'
        write_png(f'{root}/leftImg8bit/train/city/{name}_leftImg8bit.png', image(i))
        write_png(f'{root}/gtFine/train/city/{name}_gtFine_labelTrainIds.png', lab)
    write_class_stats(root, compute_class_stats(root, 'gtFine/train'))
    return root


def _source(root, rcs=None, seed=0):
    return build_dataset(dict(
        type='SourceDataset', seed=seed, rare_class_sampling=rcs,
        dataset=dict(type='CityscapesDomainDataset', data_root=root,
                     img_dir='leftImg8bit/train', ann_dir='gtFine/train', name='clear',
                     pipeline=TRAIN_PIPELINE)))


RCS = dict(class_temp=0.01, min_pixels=10, min_crop_ratio=0.5)


def test_stats_files_daformer_format(skewed_tree):
    with open(osp.join(skewed_tree, 'sample_class_stats.json')) as f:
        stats = json.load(f)
    assert stats[0] == {'file': 'gtFine/train/city/city_000000_000019_gtFine_labelTrainIds.png',
                        '0': H * W - 4 * W - 40, '2': 4 * W, '18': 40}
    with open(osp.join(skewed_tree, 'samples_with_class.json')) as f:
        with_class = json.load(f)
    assert [n for _, n in with_class['13']] == [100] * 4
    classes, probs = rcs_class_probs(stats, 0.01)
    assert classes == [0, 2, MID, RARE]  # most frequent first
    assert probs[-1] > 0.99  # softmax((1 - f) / 0.01) puts almost all mass on the rarest


def test_rcs_moves_class_frequency_to_rare(skewed_tree):
    uniform = _source(skewed_tree)
    rcs = _source(skewed_tree, RCS)
    n = 40

    def freq(ds, idx):
        counts = np.zeros(256)
        for i in idx:
            counts += np.bincount(ds[i]['gt_semantic_seg'].data.numpy().ravel(), minlength=256)
        return counts[RARE] / counts.sum()

    f_uniform = freq(uniform, np.random.default_rng(0).integers(0, 10, n))
    f_rcs = freq(rcs, range(n))
    # uniform: ~2/10 images x 40/512 px = 1.6 %; RCS draws bicycle images: 40/512 = 7.8 %
    assert f_uniform == pytest.approx(0.016, abs=0.01)
    assert f_rcs == pytest.approx(40 / (H * W), abs=1e-6)


def test_index_honoured_without_rcs(skewed_tree):
    ds = _source(skewed_tree)
    assert len(ds) == 10 and (ds.name, ds.domain) == ('clear', 0)
    for i in (0, 3, 9):
        assert ds[i]['img_metas'].data['filename'] == ds.dataset[i]['img_metas'].data['filename']


def test_rcs_seeded_and_resumable(skewed_tree):
    rcs = dict(RCS, class_temp=1.0)  # spread the draws over all classes
    a = _source(skewed_tree, rcs, seed=3)
    first = [a.rare_class_index() for _ in range(5)]
    state = a.state_dict()
    cont = [a.rare_class_index() for _ in range(8)]
    b = _source(skewed_tree, rcs, seed=3)
    assert [b.rare_class_index() for _ in range(5)] == first
    c = _source(skewed_tree, rcs, seed=99)
    c.load_state_dict(state)
    assert [c.rare_class_index() for _ in range(8)] == cont
    assert len({i for _, i in first + cont}) > 3


def test_rcs_errors(skewed_tree, tmp_path):
    with pytest.raises(ValueError, match=r"unknown rare_class_sampling keys \['temp'\]"):
        _source(skewed_tree, dict(temp=0.1))
    with pytest.raises(ValueError, match='holds more than 100000 pixels'):
        _source(skewed_tree, dict(min_pixels=100000))
    with pytest.raises(FileNotFoundError, match='tools/data/class_stats.py'):
        _source(skewed_tree, dict(RCS, stats_dir=str(tmp_path)))
