"""Stateless image/label transforms of DACS (Tranheden et al., WACV 2021,
https://arxiv.org/abs/2007.08702) as refined by DAFormer (Hoyer et al., CVPR 2022).

ClassMix masks, one-mix of a source/target pair, colour jitter and Gaussian blur
on normalised images. Colour jitter and blur reuse torchvision's tensor ops; all
randomness comes from torch's generator (seeded by the runner), on the input's
device.
"""
import math

import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from torchvision.transforms import ColorJitter

__all__ = ['get_mean_std', 'denorm', 'renorm', 'generate_class_mask',
           'get_class_masks', 'one_mix', 'color_jitter', 'gaussian_blur',
           'strong_transform', 'pseudo_label_crop_rows', 'get_pseudo_label',
           'downscale_label_ratio']


def get_mean_std(img_metas, device):
    """Normalisation mean and std of a batch, from ``img_metas[i]['img_norm_cfg']``.

    Args:
        img_metas (list[dict]): mmseg image metas holding ``img_norm_cfg``.
        device (torch.device): device of the returned tensors.

    Returns:
        tuple[Tensor, Tensor]: mean and std, each ``[N, 3, 1, 1]`` (0..255 scale).
    """
    try:
        mean = [torch.as_tensor(m['img_norm_cfg']['mean'], dtype=torch.float32)
                for m in img_metas]
        std = [torch.as_tensor(m['img_norm_cfg']['std'], dtype=torch.float32)
               for m in img_metas]
    except KeyError as err:
        raise KeyError(
            f'img_metas need img_norm_cfg with mean and std (mmseg Normalize '
            f'+ Collect meta_keys) for DACS colour augmentation; missing {err}'
        ) from err
    mean = torch.stack(mean).view(-1, 3, 1, 1).to(device)
    std = torch.stack(std).view(-1, 3, 1, 1).to(device)
    return mean, std


def denorm(img, mean, std):
    """Normalised image -> RGB in [0, 1] (``img * std / 255 + mean / 255``)."""
    return img.mul(std).add(mean).div(255.0)


def renorm(img, mean, std):
    """RGB in [0, 1] -> normalised image (inverse of :func:`denorm`)."""
    return img.mul(255.0).sub(mean).div(std)


def generate_class_mask(label, classes):
    """Mask of the pixels of ``label`` whose class is in ``classes``.

    Args:
        label (Tensor): ``[H, W]`` or ``[1, H, W]`` integer labels.
        classes (Tensor): 1-D tensor of class ids.

    Returns:
        Tensor: float mask of ``label``'s shape, 1 where the class is chosen.
    """
    classes = classes.to(label.device).view(-1, *([1] * label.dim()))
    return label.unsqueeze(0).eq(classes).any(0).float()


def get_class_masks(labels, ratio=0.5, ignore_index=255):
    """ClassMix masks: per image, pick ``ceil(ratio * n)`` of its ``n`` classes.

    DACS picks half the classes present in the source label (``ratio=0.5``);
    HAMLET's dynamic DACS changes the ratio per step.

    Args:
        labels (Tensor): ``[N, 1, H, W]`` source labels.
        ratio (float): fraction of the present classes pasted. Default: 0.5.
        ignore_index (int): label never chosen. Default: 255.

    Returns:
        tuple[list[Tensor], list[Tensor]]: per image a ``[1, H, W]`` float mask and
        the chosen class ids.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f'ClassMix ratio must be in [0, 1], got {ratio}')
    masks, chosen = [], []
    for label in labels:
        classes = torch.unique(label)
        classes = classes[classes != ignore_index]
        n_pick = int(math.ceil(classes.numel() * ratio))
        perm = torch.randperm(classes.numel(), device=classes.device)
        pick = classes[perm[:n_pick]]
        masks.append(generate_class_mask(label[0], pick).unsqueeze(0))
        chosen.append(pick)
    return masks, chosen


def one_mix(mask, data=None, target=None):
    """Pastes the masked part of the first sample onto the second.

    Args:
        mask (Tensor): ``[H, W]`` or ``[1, H, W]`` mask, 1 = take from sample 0.
        data (Tensor | None): ``[2, C, H, W]`` pair (source, target).
            Default: None.
        target (Tensor | None): ``[2, H, W]`` pair of labels/weights.
            Default: None.

    Returns:
        tuple: ``([1, C, H, W], [1, H, W])`` mixes (None where no input given).
    """
    mixed_data = mixed_target = None
    if data is not None:
        m = mask.view(1, 1, *mask.shape[-2:]).to(data.dtype)
        mixed_data = m * data[0:1] + (1 - m) * data[1:2]
    if target is not None:
        m = mask.view(1, *mask.shape[-2:])
        mixed_target = torch.where(m.bool(), target[0:1], target[1:2])
    return mixed_data, mixed_target


def color_jitter(img, mean, std, strength=0.2, probability=0.2):
    """DACS colour jitter of a normalised image batch.

    Applied when a uniform draw exceeds ``probability`` (DACS' convention), with
    brightness, contrast, saturation and hue factors of ``strength``.

    Args:
        img (Tensor): ``[N, 3, H, W]`` normalised image.
        mean (Tensor): ``[1, 3, 1, 1]`` normalisation mean.
        std (Tensor): ``[1, 3, 1, 1]`` normalisation std.
        strength (float): jitter strength s. Default: 0.2.
        probability (float): draw threshold p. Default: 0.2.
    """
    if torch.rand(()).item() <= probability or strength <= 0:
        return img
    jitter = ColorJitter(brightness=strength, contrast=strength,
                         saturation=strength, hue=min(strength, 0.5))
    rgb = denorm(img, mean, std).clamp(0, 1)
    return renorm(jitter(rgb), mean, std)


def gaussian_blur(img, apply=True, sigma_range=(0.15, 1.15)):
    """DACS Gaussian blur: sigma uniform in ``sigma_range``, kernel ~10% of the size.

    Args:
        img (Tensor): ``[N, C, H, W]`` image.
        apply (bool): blur or return the input. Default: True.
        sigma_range (tuple[float]): range of the random sigma.
            Default: (0.15, 1.15).
    """
    if not apply:
        return img
    sigma = sigma_range[0] + (sigma_range[1] - sigma_range[0]) * torch.rand(()).item()
    kernel = []
    for size in img.shape[-2:]:
        k = int(math.ceil(0.1 * size))
        kernel.append(max(k + 1 - k % 2, 3))  # odd, at least 3
    return TF.gaussian_blur(img, kernel[::-1], [sigma, sigma])


def strong_transform(mask, mean, std, data=None, target=None, jitter_strength=0.2,
                     jitter_probability=0.2, blur=True):
    """DACS strong augmentation of one pair: one-mix, then colour jitter and blur.

    Args:
        mask (Tensor): ClassMix mask of the pair.
        mean (Tensor): ``[1, 3, 1, 1]`` normalisation mean.
        std (Tensor): ``[1, 3, 1, 1]`` normalisation std.
        data (Tensor | None): ``[2, 3, H, W]`` source/target images. Default: None.
        target (Tensor | None): ``[2, H, W]`` labels or pixel weights.
            Default: None.
        jitter_strength (float): see :func:`color_jitter`. Default: 0.2.
        jitter_probability (float): see :func:`color_jitter`. Default: 0.2.
        blur (bool): draw a blur with probability 0.5. Default: True.
    """
    data, target = one_mix(mask, data, target)
    if data is not None:
        data = color_jitter(data, mean, std, jitter_strength, jitter_probability)
        data = gaussian_blur(data, apply=blur and torch.rand(()).item() > 0.5)
    return data, target


def pseudo_label_crop_rows(height, ignore_top, ignore_bottom, ref_height):
    """Rows of an input of ``height`` to drop from pseudo-labels (DAFormer's crop).

    ``ignore_top``/``ignore_bottom`` are given for images ``ref_height`` rows
    high and scaled to ``height`` (rounded).

    Returns:
        tuple[int, int]: rows to ignore at the top and at the bottom.
    """
    scale = height / float(ref_height)
    return int(round(ignore_top * scale)), int(round(ignore_bottom * scale))


def get_pseudo_label(logits, threshold):
    """Hard pseudo-labels and DACS' confidence weight from teacher logits.

    The weight is the fraction of pixels (over the whole batch, as DAFormer)
    whose maximum softmax probability reaches ``threshold``, broadcast to every
    pixel.

    Args:
        logits (Tensor): ``[N, K, H, W]`` teacher logits.
        threshold (float): confidence threshold tau in (0, 1).

    Returns:
        tuple[Tensor, Tensor]: labels ``[N, H, W]`` (long) and weights
        ``[N, H, W]`` (float).
    """
    prob, label = torch.softmax(logits.detach(), dim=1).max(dim=1)
    fraction = prob.ge(threshold).float().mean()
    return label, fraction * torch.ones_like(prob)


def downscale_label_ratio(label, scale_factor, min_ratio, num_classes,
                          ignore_index=255):
    """Label map downscaled by majority vote, ignored where the majority is weak.

    DAFormer's rule for the thing-class mask of the feature distance: a
    low-resolution cell gets the class covering most of it if that class covers
    at least ``min_ratio`` of it, else ``ignore_index``.

    Args:
        label (Tensor): ``[N, 1, H, W]`` labels.
        scale_factor (int): downscaling factor (H and W divisible by it).
        min_ratio (float): minimum share of the majority class.
        num_classes (int): number of classes.
        ignore_index (int): label of ignored pixels. Default: 255.

    Returns:
        Tensor: ``[N, 1, H / s, W / s]`` long labels.
    """
    n, _, h, w = label.shape
    if h % scale_factor or w % scale_factor:
        raise ValueError(f'label size {h}x{w} is not divisible by {scale_factor}')
    lbl = label.clone().long()
    lbl[lbl == ignore_index] = num_classes
    onehot = F.one_hot(lbl.squeeze(1), num_classes + 1).permute(0, 3, 1, 2).float()
    share = F.avg_pool2d(onehot, scale_factor)
    ratio, out = share.max(dim=1, keepdim=True)
    out[out == num_classes] = ignore_index
    out[ratio < min_ratio] = ignore_index
    return out
