"""classmix_debug.ipynb and pseudo_label_quality.ipynb on tiny ProcCity scenes and a
tiny MiT (an untrained model: the tests check the numbers the notebooks derive)."""
import math
import re

import numpy as np
import pytest
import torch
from nb_utils import outputs_of, run_notebook, stdout_of

from mmseg_ext.apis.analysis import pseudo_label_quality
from mmseg_ext.datasets.synth import CLASS_NAMES, render_scene

H, W = 64, 128
TINY = {'model.backbone.embed_dims': [8, 8, 16, 16],
        'model.backbone.num_heads': [1, 1, 2, 2],
        'model.backbone.depths': [1, 1, 1, 1],
        'model.decode_head.in_channels': [8, 8, 16, 16],
        'model.decode_head.channels': 16}


def test_pseudo_label_quality_on_hand_built_logits():
    # 2x2 image: confident right (p=0.99), confident wrong, unsure right, ignored
    big, small = math.log(99.0), 0.0  # softmax of [log 99, 0] = [0.99, 0.01]
    logits = torch.tensor([[[big, 0.0], [0.2, 0.0]],
                           [[small, big], [0.0, 0.0]]])[None]  # [1, 2, 2, 2]
    labels = torch.tensor([[[0, 0], [0, 255]]])
    q = pseudo_label_quality(logits, labels, threshold=0.968)
    assert q == dict(accuracy=pytest.approx(2 / 3), confident_fraction=pytest.approx(2 / 3),
                     confident_accuracy=pytest.approx(1 / 2), pixels=3)
    with pytest.raises(ValueError, match=r'logits \(1, 2, 2, 2\) and labels \(1, 3, 3\)'):
        pseudo_label_quality(logits, torch.zeros(1, 3, 3, dtype=torch.long))


def test_classmix_debug_notebook():
    nb = run_notebook('classmix_debug.ipynb', dict(
        HEIGHT=H, WIDTH=W, CFG_OPTIONS=TINY, CHECKPOINT=None, SOURCE_SEED=3,
        TARGET_SEED=4, RAIN_RATE=50))
    out = stdout_of(nb)
    classes = [int(c) for c in re.search(r'ClassMix classes: \[([\d, ]+)\]', out)
               .group(1).split(',')]
    fraction = float(re.search(r'ClassMix mask covers ([\d.]+) of', out).group(1))
    label = render_scene(3, H, W)[1]
    present = np.unique(label)  # DAFormer's candidates: the ignore label too
    assert len(classes) == (len(present) + len(present) % 2) // 2
    assert set(classes) <= set(present)
    assert fraction == pytest.approx(np.isin(label, classes).mean(), abs=1e-4)
    assert 'mixed label == mask * source label + (1 - mask) * pseudo-label: True' in out
    weight = float(re.search(r'pseudo-label weight \(share of pixels >= 0.968\): ([\d.]+)',
                             out).group(1))
    assert 0.0 <= weight <= 1.0
    assert len(outputs_of(nb, 'image/png')) == 1
    # the colour legend names every class of the source label (and no ignored 255)
    legend = re.search(r'class legend: (.*)', out).group(1).split(', ')
    assert set(legend) >= {CLASS_NAMES[c] for c in present}
    assert len(legend) == len(set(legend)) <= len(CLASS_NAMES)


def test_pseudo_label_quality_notebook():
    rates = [0, 50, 200]
    nb = run_notebook('pseudo_label_quality.ipynb', dict(
        HEIGHT=H, WIDTH=W, CFG_OPTIONS=TINY, CHECKPOINT=None, RAIN_RATES=rates, N_IMAGES=2,
        THRESHOLD=0.0, SEED=7))
    rows = re.findall(r'^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)$',
                      stdout_of(nb), flags=re.M)
    assert [int(r[0]) for r in rows] == rates
    labels = np.stack([render_scene(7 + i, H, W)[1] for i in range(2)])
    for _, acc, conf, conf_acc, pixels in rows:
        assert int(pixels) == int((labels != 255).sum())  # rain keeps the labels
        assert float(conf) == 1.0  # threshold 0: every pixel is confident
        assert float(conf_acc) == float(acc)
        assert 0.0 <= float(acc) <= 1.0
    assert len(outputs_of(nb, 'image/png')) == 1


def test_pseudo_label_quality_notebook_shows_missing_values():
    """A threshold no pixel reaches leaves the confident accuracy without a value:
    the notebook says so instead of dropping the curve silently."""
    nb = run_notebook('pseudo_label_quality.ipynb', dict(
        HEIGHT=H, WIDTH=W, CFG_OPTIONS=TINY, CHECKPOINT=None, RAIN_RATES=[0, 50],
        N_IMAGES=1, THRESHOLD=1.01, SEED=7))
    assert ('accuracy on confident pixels: no value at [0, 50] mm/h (no pixel >= 1.01): '
            'a gap in the curve') in stdout_of(nb)
    assert len(outputs_of(nb, 'image/png')) == 1
