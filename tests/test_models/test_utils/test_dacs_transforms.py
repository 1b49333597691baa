"""DACS helpers: ClassMix, pseudo-label weight and crop, label downscaling."""
import numpy as np
import pytest
import torch

from mmseg_ext.models.utils.dacs_transforms import (
    color_jitter, denorm, downscale_label_ratio, gaussian_blur, get_class_masks,
    get_pseudo_label, one_mix, pseudo_label_crop_rows, renorm)


def test_classmix_mask_holds_exactly_the_chosen_classes_and_mixes_exactly():
    np.random.seed(0)
    label = torch.tensor([0, 3, 5, 7, 9, 255]).repeat_interleave(4).view(1, 1, 4, 6)
    masks, chosen = get_class_masks(label, ratio=0.5, candidates='image_valid')
    assert chosen[0].numel() == 3  # int((5 + 1) / 2) of the 5 valid classes
    assert 255 not in chosen[0].tolist()
    # DAFormer's candidates (the default): the ignore label is one of 6 classes
    for _ in range(20):
        assert get_class_masks(label)[1][0].numel() == 3
    assert any(255 in get_class_masks(label)[1][0].tolist() for _ in range(20))
    with pytest.raises(ValueError, match="candidates must be one of .* got 'all'"):
        get_class_masks(label, candidates='all')
    expected = torch.isin(label[0], chosen[0]).float()
    assert torch.equal(masks[0], expected)

    src, tgt = torch.randn(3, 4, 6), torch.randn(3, 4, 6)
    mixed, _ = one_mix(masks[0], data=torch.stack((src, tgt)))
    assert torch.equal(mixed[0], masks[0] * src + (1 - masks[0]) * tgt)
    src_lbl, tgt_lbl = label[0, 0], torch.full((4, 6), 1)
    _, mixed_lbl = one_mix(masks[0], target=torch.stack((src_lbl, tgt_lbl)))
    m = masks[0][0].bool()
    assert torch.equal(mixed_lbl[0][m], src_lbl[m])
    assert torch.equal(mixed_lbl[0][~m], tgt_lbl[~m])


def test_classmix_ratio():
    label = torch.arange(8).view(1, 1, 2, 4)
    assert get_class_masks(label, ratio=0.0)[0][0].sum() == 0
    assert get_class_masks(label, ratio=1.0)[0][0].sum() == 8
    assert get_class_masks(label, ratio=0.25)[1][0].numel() == 2
    with pytest.raises(ValueError, match='ClassMix ratio must be in'):
        get_class_masks(label, ratio=1.5)


def test_pseudo_label_weight_is_the_confident_fraction():
    # 2 images x 2x2 pixels x 3 classes; 3 of 8 pixels reach 0.968.
    probs = torch.full((2, 3, 2, 2), 0.0)
    conf = torch.tensor([[[0.99, 0.5], [0.97, 0.6]], [[0.4, 0.975], [0.9, 0.5]]])
    probs[:, 1] = conf
    probs[:, 0] = (1 - conf) / 2
    probs[:, 2] = (1 - conf) / 2
    label, weight = get_pseudo_label(probs.log(), threshold=0.968)
    assert torch.equal(label, torch.ones(2, 2, 2, dtype=torch.long))
    assert weight.shape == (2, 2, 2)
    assert torch.allclose(weight, torch.full((2, 2, 2), 3 / 8))


def test_pseudo_label_crop_rows_scale_with_height():
    assert pseudo_label_crop_rows(512, 15, 120, 512) == (15, 120)
    assert pseudo_label_crop_rows(1024, 15, 120, 512) == (30, 240)
    assert pseudo_label_crop_rows(128, 15, 120, 512) == (4, 30)


def test_downscale_label_ratio_majority_and_ignore():
    lbl = torch.zeros(1, 1, 4, 4, dtype=torch.long)
    lbl[0, 0, :2, 2:] = 3          # top-right cell: all class 3
    lbl[0, 0, 2:, :2] = torch.tensor([[1, 1], [2, 2]])  # bottom-left: 50/50
    lbl[0, 0, 2:, 2:] = torch.tensor([[5, 5], [5, 255]])  # bottom-right: 75% 5
    out = downscale_label_ratio(lbl, 2, 0.75, num_classes=19)
    assert out.tolist() == [[[[0, 3], [255, 5]]]]


def test_denorm_renorm_roundtrip_blur_and_bad_jitter_impl():
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    img = torch.randn(1, 3, 8, 8)
    assert torch.allclose(renorm(denorm(img, mean, std), mean, std), img, atol=1e-5)
    assert torch.equal(gaussian_blur(img, 0.8), img)  # 8 px: DAFormer's kernel is 1
    big = torch.randn(1, 3, 64, 64)
    blurred = gaussian_blur(big, 0.8)  # 7x7 kernel
    assert blurred.shape == big.shape and blurred.std() < 0.8 * big.std()
    with pytest.raises(ValueError, match="jitter impl must be one of .* got 'pil'"):
        color_jitter(img, mean, std, impl='pil')
