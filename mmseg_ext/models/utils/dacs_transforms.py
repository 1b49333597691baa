"""Stateless image/label transforms of DACS (Tranheden et al., WACV 2021,
https://arxiv.org/abs/2007.08702) as refined by DAFormer (Hoyer et al., CVPR 2022).

ClassMix masks, one-mix of a source/target pair, colour jitter and Gaussian blur
on normalised images, pseudo-labels and their confidence weight.

By default every formula and every random draw is the one of DAFormer's
``mmseg/models/utils/dacs_transforms.py`` and ``mmseg/models/uda/dacs.py`` (HAMLET
uses the same file): the per-step jitter and blur decisions come from Python's
``random``, the ClassMix class choice and the blur sigma from NumPy's global
generator, and the colour-jitter factors from torch's CPU generator, drawn as
kornia 0.5.8's ``ColorJitter`` draws them. The runner seeds and checkpoints all
three generators (``online_src/rng.py``).
"""
import math
import random

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from torchvision.transforms import ColorJitter

__all__ = ['MIX_CLASS_CANDIDATES', 'JITTER_IMPLS', 'get_mean_std', 'denorm', 'renorm',
           'generate_class_mask', 'mix_class_count', 'get_class_masks', 'one_mix',
           'rgb_to_hsv', 'hsv_to_rgb', 'draw_kornia058_jitter', 'kornia058_color_jitter',
           'color_jitter', 'blur_kernel_size', 'gaussian_blur', 'draw_augmentation',
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


#: ClassMix candidate classes: ``'batch'`` every label in the source batch (the
#: ignore label included; DAFormer, HAMLET), ``'image'`` every label of the image
#: (the ignore label included; the original DACS code), ``'image_valid'`` the
#: image's labels without the ignore label.
MIX_CLASS_CANDIDATES = ('batch', 'image', 'image_valid')
#: Colour-jitter formulas: kornia 0.5.8's ``ColorJitter`` (DACS, DAFormer, HAMLET)
#: or torchvision's ``ColorJitter``.
JITTER_IMPLS = ('kornia058', 'torchvision')


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


def mix_class_count(n, ratio):
    """Number of classes ClassMix pastes out of ``n`` candidates.

    HAMLET's dynamic ClassMix (Colomer et al., ICCV 2023):
    ``min(int((n + n % 2) * ratio), n)``; at ``ratio=0.5`` it is exactly DACS'
    ``int((n + n % 2) / 2)`` (half the classes, rounded up).

    Args:
        n (int): number of candidate classes.
        ratio (float): fraction in [0, 1].
    """
    return min(int((n + n % 2) * ratio), n)


def get_class_masks(labels, ratio=0.5, candidates='batch', ignore_index=255):
    """ClassMix masks: per image, :func:`mix_class_count` of the candidate classes.

    As DAFormer's ``get_class_masks``: the candidates are ``torch.unique`` of the
    source labels (see :data:`MIX_CLASS_CANDIDATES`), the chosen ones
    ``np.random.choice(n, k, replace=False)`` from NumPy's global generator.

    Args:
        labels (Tensor): ``[N, 1, H, W]`` source labels.
        ratio (float): fraction of the candidates pasted. Default: 0.5.
        candidates (str): one of :data:`MIX_CLASS_CANDIDATES`. Default: 'batch'.
        ignore_index (int): label left out by ``'image_valid'``. Default: 255.

    Returns:
        tuple[list[Tensor], list[Tensor]]: per image a ``[1, H, W]`` float mask and
        the chosen class ids.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f'ClassMix ratio must be in [0, 1], got {ratio}')
    if candidates not in MIX_CLASS_CANDIDATES:
        raise ValueError(f'ClassMix candidates must be one of {MIX_CLASS_CANDIDATES}, '
                         f'got {candidates!r}')
    batch_classes = torch.unique(labels) if candidates == 'batch' else None
    masks, chosen = [], []
    for label in labels:
        classes = batch_classes if batch_classes is not None else torch.unique(label)
        if candidates == 'image_valid':
            classes = classes[classes != ignore_index]
        n = classes.numel()
        choice = np.random.choice(n, mix_class_count(n, ratio), replace=False)
        pick = classes[torch.as_tensor(choice, dtype=torch.long, device=classes.device)]
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


def rgb_to_hsv(rgb, eps=1e-6):
    """RGB in [0, 1] -> HSV with hue in radians [0, 2 pi), as kornia 0.5.8.

    ``s = (max - min) / (max + eps)``; the hue sector is the first maximal channel.

    Args:
        rgb (Tensor): ``[..., 3, H, W]``.
        eps (float): saturation denominator guard. Default: 1e-6.
    """
    r, g, b = rgb.unbind(-3)
    value, argmax = rgb.max(-3)  # first maximal channel on ties
    delta = value - rgb.min(-3)[0]
    sat = delta / (value + eps)
    delta = torch.where(delta == 0, torch.ones_like(delta), delta)
    sector = torch.stack(((g - b) / delta, 2.0 + (b - r) / delta,
                          4.0 + (r - g) / delta), dim=-3)
    hue = sector.gather(-3, argmax.unsqueeze(-3)).squeeze(-3)
    hue = 2 * math.pi * ((hue / 6.0) % 1.0)
    return torch.stack((hue, sat, value), dim=-3)


def hsv_to_rgb(hsv):
    """Inverse of :func:`rgb_to_hsv` (hue in radians, any real value).

    Channel ``c`` is ``v - v s clamp(min(k, 4 - k), 0, 1)`` with
    ``k = (n_c + 6 h / 2 pi) mod 6`` and ``n = (5, 3, 1)`` for R, G, B.
    """
    hue, sat, value = hsv.unbind(-3)
    sextant = (hue / (2 * math.pi) * 6).unsqueeze(-3)
    n = torch.tensor([5.0, 3.0, 1.0], dtype=hsv.dtype, device=hsv.device)
    k = (n.view(3, 1, 1) + sextant) % 6
    ramp = torch.minimum(k, 4 - k).clamp(0, 1)
    return value.unsqueeze(-3) * (1 - sat.unsqueeze(-3) * ramp)


def draw_kornia058_jitter(n, strength):
    """Colour-jitter factors drawn as kornia 0.5.8's ``ColorJitter(s, s, s, s)``.

    On torch's CPU generator in float32 (kornia draws there whatever the image's
    device), in kornia's order: brightness, contrast, hue, saturation factors
    (``lo + U[0, 1) (hi - lo)``, one per image), then the order of the four
    adjustments (one ``randperm(4)`` for the batch). Ranges: ``[1 - s, 1 + s]``
    (brightness clamped to [0, 2], contrast and saturation to [0, inf)) and hue
    ``[-s, s]`` clamped to [-0.5, 0.5].

    Args:
        n (int): number of images.
        strength (float): jitter strength s >= 0.

    Returns:
        dict: ``brightness``, ``contrast``, ``saturation``, ``hue`` (``[n]``
        float32 tensors) and ``order`` (``[4]`` long: 0 brightness, 1 contrast,
        2 saturation, 3 hue).
    """
    s = torch.tensor(float(strength), dtype=torch.float32)
    sign = torch.tensor([-1.0, 1.0])

    def draw(center, low, high):
        lo, hi = (s.repeat(2) * sign + center).clamp(low, high)
        return lo + torch.rand(n, dtype=torch.float32) * (hi - lo)

    factors = dict(brightness=draw(1.0, 0.0, 2.0), contrast=draw(1.0, 0.0, math.inf),
                   hue=draw(0.0, -0.5, 0.5), saturation=draw(1.0, 0.0, math.inf))
    factors['order'] = torch.randperm(4, dtype=torch.float32).long()
    return factors


def kornia058_color_jitter(rgb, factors):
    """kornia 0.5.8's colour adjustments of an RGB batch in [0, 1], in ``order``.

    Brightness is additive (``clamp(x + b - 1)``), contrast multiplicative
    (``clamp(c x)``), saturation scales S in HSV (``clamp(s S)``), hue rotates H
    by ``2 pi h`` (``fmod``); the clamps are to [0, 1].

    Args:
        rgb (Tensor): ``[N, 3, H, W]``.
        factors (dict): :func:`draw_kornia058_jitter`'s output.
    """
    per_image = {k: factors[k].to(rgb.device, rgb.dtype).view(-1, 1, 1, 1)
                 for k in ('brightness', 'contrast', 'saturation', 'hue')}

    def saturation(x):
        hsv = rgb_to_hsv(x)
        sat = (hsv[:, 1:2] * per_image['saturation']).clamp(0, 1)
        return hsv_to_rgb(torch.cat((hsv[:, :1], sat, hsv[:, 2:]), dim=1))

    def hue(x):
        hsv = rgb_to_hsv(x)
        shifted = torch.fmod(hsv[:, :1] + per_image['hue'] * 2 * math.pi, 2 * math.pi)
        return hsv_to_rgb(torch.cat((shifted, hsv[:, 1:]), dim=1))

    steps = (lambda x: (x + (per_image['brightness'] - 1)).clamp(0, 1),
             lambda x: (x * per_image['contrast']).clamp(0, 1),
             saturation, hue)
    for idx in factors['order'].tolist():
        rgb = steps[idx](rgb)
    return rgb


def color_jitter(img, mean, std, strength=0.2, impl='kornia058'):
    """DACS colour jitter of a normalised image batch (always applied: the
    per-step decision is :func:`draw_augmentation`'s).

    Args:
        img (Tensor): ``[N, 3, H, W]`` normalised image.
        mean (Tensor): ``[1, 3, 1, 1]`` normalisation mean.
        std (Tensor): ``[1, 3, 1, 1]`` normalisation std.
        strength (float): jitter strength s of brightness, contrast, saturation
            and hue. Default: 0.2.
        impl (str): ``'kornia058'`` (:func:`kornia058_color_jitter`, DACS/DAFormer/
            HAMLET) or ``'torchvision'`` (torchvision's ``ColorJitter`` on the
            image clamped to [0, 1]: multiplicative brightness, contrast towards
            the grey mean, saturation as a blend with grey, hue capped at 0.5).
            Default: 'kornia058'.
    """
    if impl not in JITTER_IMPLS:
        raise ValueError(f'colour jitter impl must be one of {JITTER_IMPLS}, got {impl!r}')
    rgb = denorm(img, mean, std)
    if impl == 'kornia058':
        rgb = kornia058_color_jitter(rgb, draw_kornia058_jitter(len(img), strength))
    else:
        rgb = ColorJitter(brightness=strength, contrast=strength, saturation=strength,
                          hue=min(strength, 0.5))(rgb.clamp(0, 1))
    return renorm(rgb, mean, std)


def blur_kernel_size(size):
    """DAFormer's Gaussian kernel size for an image side of ``size`` pixels: the
    odd number among ``ceil(0.1 size)`` and ``ceil(0.1 size) - 1``."""
    c = math.ceil(0.1 * size)
    return c if c % 2 else c - 1


def gaussian_blur(img, sigma):
    """DACS Gaussian blur with :func:`blur_kernel_size` kernels and reflected borders
    (kornia's ``GaussianBlur2d`` as DAFormer calls it; torchvision's op here).

    Args:
        img (Tensor): ``[N, C, H, W]`` image.
        sigma (float): standard deviation (DAFormer draws it from U[0.15, 1.15)).
    """
    kernel = [blur_kernel_size(img.shape[-1]), blur_kernel_size(img.shape[-2])]
    return TF.gaussian_blur(img, kernel, [sigma, sigma])


def draw_augmentation(jitter_probability=0.2, blur=True):
    """DAFormer's per-step decisions, from Python's ``random``: colour jitter when
    ``U[0, 1) > jitter_probability``, blur when ``U[0, 1) > 0.5`` (not drawn when
    ``blur`` is off). The same decisions hold for every image of the step.

    Returns:
        tuple[bool, bool]: apply colour jitter, apply blur.
    """
    jitter = random.uniform(0, 1) > jitter_probability
    blur_draw = random.uniform(0, 1) if blur else 0
    return jitter, blur_draw > 0.5


def strong_transform(mask, mean, std, data=None, target=None, jitter=False,
                     jitter_strength=0.2, jitter_impl='kornia058', blur=False):
    """DACS strong augmentation of one pair: one-mix, then colour jitter and blur.

    The blur sigma is drawn here from NumPy's generator, U[0.15, 1.15), after the
    jitter factors, as in DAFormer.

    Args:
        mask (Tensor): ClassMix mask of the pair.
        mean (Tensor): ``[1, 3, 1, 1]`` normalisation mean.
        std (Tensor): ``[1, 3, 1, 1]`` normalisation std.
        data (Tensor | None): ``[2, 3, H, W]`` source/target images. Default: None.
        target (Tensor | None): ``[2, H, W]`` labels or pixel weights.
            Default: None.
        jitter (bool): apply :func:`color_jitter`. Default: False.
        jitter_strength (float): see :func:`color_jitter`. Default: 0.2.
        jitter_impl (str): see :func:`color_jitter`. Default: 'kornia058'.
        blur (bool): apply :func:`gaussian_blur`. Default: False.
    """
    data, target = one_mix(mask, data, target)
    if data is not None:
        if jitter:
            data = color_jitter(data, mean, std, jitter_strength, jitter_impl)
        if blur:
            data = gaussian_blur(data, np.random.uniform(0.15, 1.15))
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

    As DAFormer: the weight is the fraction of pixels (over the whole batch)
    whose maximum softmax probability reaches ``threshold`` (counted exactly, in
    float64), broadcast to every pixel; the pseudo-label crop zeroes rows after.

    Args:
        logits (Tensor): ``[N, K, H, W]`` teacher logits.
        threshold (float): confidence threshold tau in (0, 1).

    Returns:
        tuple[Tensor, Tensor]: labels ``[N, H, W]`` (long) and weights
        ``[N, H, W]`` (float).
    """
    prob, label = torch.softmax(logits.detach(), dim=1).max(dim=1)
    fraction = prob.ge(threshold).sum(dtype=torch.float64) / prob.numel()
    return label, fraction.to(prob.dtype) * torch.ones_like(prob)


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
