"""DACS transforms against test-side reimplementations of the published code
(``dacs_reference.py``): kornia 0.5.8's ``ColorJitter(s, s, s, s)`` as DAFormer
and HAMLET call it, kornia 0.5.8's ``GaussianBlur2d`` with DAFormer's kernel-size
rule, DAFormer's ``get_class_masks`` with HAMLET's dynamic class count. Each
comparison runs both sides on identical inputs and identically seeded generators.
"""
import math

import numpy as np
import pytest
import torch
import torchvision
from dacs_reference import ADJUSTMENTS, ref_blur, ref_class_choice, ref_draw, ref_jitter

from mmseg_ext.models.utils.dacs_transforms import (
    blur_kernel_size, color_jitter, denorm, draw_kornia058_jitter, gaussian_blur,
    get_class_masks, kornia058_color_jitter, mix_class_count)

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)


def images(seed=0, n=3, h=19, w=23):
    """RGB in [0, 1] with grey pixels, ties between channels and saturated ones."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, h, w, generator=g)
    x[0, :, :4, :4] = 0.5                  # grey: hue undefined
    x[1, 1, :3] = x[1, 0, :3]              # R = G ties
    x[2, :, -3:] = x[2, :, -3:].round()    # 0/1 corners
    return x


# ----------------------------------------------------------------------- tests
@pytest.mark.parametrize('strength', [0.2, 0.5, 0.9])
def test_jitter_factors_are_kornia058_draws(strength):
    torch.manual_seed(7)
    ref = ref_draw(3, strength)
    after_ref = torch.rand(1)
    torch.manual_seed(7)
    got = draw_kornia058_jitter(3, strength)
    assert torch.equal(torch.rand(1), after_ref)  # same generator use
    for key, value in ref.items():
        assert torch.equal(got[key], value), key


@pytest.mark.parametrize('which', ADJUSTMENTS)
def test_each_jitter_adjustment_matches_kornia058(which):
    x = images()
    idx = ADJUSTMENTS.index(which)
    for seed in range(4):
        torch.manual_seed(seed)
        params = ref_draw(len(x), 0.5)  # wide factors: clamps and hue wrap-around
        params['order'] = torch.tensor([idx])
        got = kornia058_color_jitter(x, params)
        assert (got - ref_jitter(x, params)).abs().max() <= 1e-5
        assert (got - x).abs().max() > 1e-3  # the adjustment did something


@pytest.mark.parametrize('strength', [0.2, 0.5])
def test_combined_jitter_on_normalised_images_matches_kornia058(strength):
    x = images(seed=1)
    img = (x * 255 - MEAN) / STD
    for seed in range(4):
        torch.manual_seed(seed)
        out = color_jitter(img, MEAN, STD, strength)  # default: kornia058
        torch.manual_seed(seed)
        ref = ref_jitter(denorm(img, MEAN, STD), ref_draw(len(img), strength))
        assert (denorm(out, MEAN, STD) - ref).abs().max() <= 1e-5


def test_torchvision_variant_is_torchvision_color_jitter():
    x = images(seed=2)
    img = (x * 255 - MEAN) / STD
    torch.manual_seed(3)
    out = color_jitter(img, MEAN, STD, 0.2, impl='torchvision')
    torch.manual_seed(3)
    ref = torchvision.transforms.ColorJitter(0.2, 0.2, 0.2, 0.2)(x.clamp(0, 1))
    assert (denorm(out, MEAN, STD) - ref).abs().max() <= 1e-5


def test_blur_kernel_rule_is_daformer():
    for n in range(1, 1025):
        c = np.ceil(0.1 * n)
        assert blur_kernel_size(n) == int(np.floor(c - 0.5 + c % 2)), n
    assert [blur_kernel_size(n) for n in (20, 21, 40, 128, 512, 1024)] == \
        [1, 3, 3, 13, 51, 103]


@pytest.mark.parametrize('h, w', [(19, 23), (31, 64), (64, 128), (128, 256)])
def test_blur_matches_kornia058_gaussian_blur2d(h, w):
    img = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(h))
    for sigma in (0.15, 0.6, 1.15):
        assert (gaussian_blur(img, sigma) - ref_blur(img, sigma)).abs().max() <= 1e-5


def test_classmix_counts_and_choices_match_hamlet_and_daformer():
    ratios = [i / 10 for i in range(11)]
    differ_from_ceil = 0
    for n in range(1, 20):
        label = (torch.arange(n).repeat_interleave(3) * 2)[None, None].repeat(1, 1, 2, 1)
        for r in ratios:
            np.random.seed(100 * n + int(10 * r))
            masks, chosen = get_class_masks(label, r)
            np.random.seed(100 * n + int(10 * r))
            ref_chosen, ref_masks = ref_class_choice(label, r)
            assert torch.equal(chosen[0], ref_chosen[0]), (n, r)
            assert torch.equal(masks[0], ref_masks[0]), (n, r)
            assert mix_class_count(n, r) == min(int((n + n % 2) * r), n)
            differ_from_ceil += 0 < r < 1 and mix_class_count(n, r) != math.ceil(n * r)
        # r = 0.5 is DACS/DAFormer's fixed count exactly
        assert mix_class_count(n, 0.5) == int((n + n % 2) / 2)
    assert mix_class_count(1, 0.1) == 0 and mix_class_count(19, 1.0) == 19
    assert differ_from_ceil == 92  # of the 171 (ratio 0.1..0.9, n 1..19) pairs


def test_classmix_candidates_are_the_batch_labels_with_ignore():
    """DAFormer takes torch.unique of the whole batch (the ignore label too) for
    every image; 'image' and 'image_valid' are the per-image variants."""
    labels = torch.tensor([[0, 1, 255], [4, 5, 6]]).view(2, 1, 1, 3)
    for seed in range(5):
        np.random.seed(seed)
        _, chosen = get_class_masks(labels, 0.5)
        np.random.seed(seed)
        ref, _ = ref_class_choice(labels, 0.5)
        assert [c.tolist() for c in chosen] == [c.tolist() for c in ref]
        assert all(len(c) == 3 for c in chosen)  # 6 candidates -> int(6 / 2)
    _, chosen = get_class_masks(labels, 1.0, candidates='image')
    assert [sorted(c.tolist()) for c in chosen] == [[0, 1, 255], [4, 5, 6]]
    _, chosen = get_class_masks(labels, 1.0, candidates='image_valid')
    assert [sorted(c.tolist()) for c in chosen] == [[0, 1], [4, 5, 6]]
