"""Test-side reimplementations of DACS's published transforms (no project code).

Written from the public sources (read, not copied): kornia 0.5.8's ColorJitter
(``augmentation/random_generator/random_generator.py``, ``enhance/adjust.py``,
``color/hsv.py``) and GaussianBlur2d as DAFormer's and HAMLET's
``mmseg/models/utils/dacs_transforms.py`` call them, and DAFormer's
``get_class_masks`` with HAMLET's dynamic class count.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

ADJUSTMENTS = ('brightness', 'contrast', 'saturation', 'hue')  # kornia's order ids


def ref_draw(n, s):
    """kornia 0.5.8: ``_range_bound`` per factor, then ``Uniform(lo, hi).rsample``
    for brightness, contrast, hue, saturation, then ``randperm(4)`` as float."""
    def bound(center, lo, hi):
        b = torch.tensor(s, dtype=torch.float32).repeat(2) * torch.tensor([-1.0, 1.0])
        return (b + center).clamp(lo, hi)

    ranges = [bound(1.0, 0, 2), bound(1.0, 0, float('inf')),
              bound(0.0, -0.5, 0.5), bound(1.0, 0, float('inf'))]
    drawn = []
    for lo, hi in ranges:
        drawn.append(torch.distributions.Uniform(lo, hi, validate_args=False)
                     .rsample((n,)))
    b, c, h, sat = drawn
    order = torch.randperm(4, dtype=torch.float32).long()
    return dict(brightness=b, contrast=c, hue=h, saturation=sat, order=order)


def ref_rgb_to_hsv(image, eps=1e-6):
    maxc, _ = image.max(-3)
    is_max = image == maxc.unsqueeze(-3)
    first = ((is_max.cumsum(-3) == 1) & is_max).max(-3)[1]
    minc = image.min(-3)[0]
    delta = maxc - minc
    s = delta / (maxc + eps)
    delta = torch.where(delta == 0, torch.ones_like(delta), delta)
    rc, gc, bc = (maxc.unsqueeze(-3) - image).unbind(-3)
    h = torch.stack([bc - gc, 2.0 * delta + rc - bc, 4.0 * delta + gc - rc], dim=-3)
    h = torch.gather(h, -3, first.unsqueeze(-3)).squeeze(-3) / delta
    h = 2 * math.pi * ((h / 6.0) % 1.0)
    return torch.stack([h, s, maxc], dim=-3)


def ref_hsv_to_rgb(image):
    h = image[..., 0, :, :] / (2 * math.pi)
    s, v = image[..., 1, :, :], image[..., 2, :, :]
    hi = torch.floor(h * 6) % 6
    f = ((h * 6) % 6) - hi
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    hi = hi.long()
    table = torch.stack((v, q, p, p, t, v, t, v, v, q, p, p, p, p, t, v, v, q), dim=-3)
    return torch.gather(table, -3, torch.stack([hi, hi + 6, hi + 12], dim=-3))


def ref_adjust(x, which, factor):
    f = factor.view(-1, 1, 1, 1)
    if which == 'brightness':
        return torch.clamp(x + (f - 1), 0.0, 1.0)
    if which == 'contrast':
        return torch.clamp(x * f, 0.0, 1.0)
    h, s, v = torch.chunk(ref_rgb_to_hsv(x), chunks=3, dim=-3)
    if which == 'saturation':
        s = torch.clamp(s * f, min=0, max=1)
    else:
        h = torch.fmod(h + f * 2 * math.pi, 2 * math.pi)
    return ref_hsv_to_rgb(torch.cat([h, s, v], dim=-3))


def ref_jitter(x, params):
    for idx in params['order'].tolist():
        which = ADJUSTMENTS[idx]
        x = ref_adjust(x, which, params[which])
    return x


def ref_blur(img, sigma):
    """kornia 0.5.8 GaussianBlur2d with DAFormer's kernel: 2-D kernel (outer
    product of normalised 1-D Gaussians), reflected border, one convolution."""
    def size(n):
        return int(np.floor(np.ceil(0.1 * n) - 0.5 + np.ceil(0.1 * n) % 2))

    def gauss(k):
        x = torch.arange(k).float() - k // 2
        g = torch.exp(-x.pow(2.0) / float(2 * sigma ** 2))
        return g / g.sum()

    ky, kx = size(img.shape[2]), size(img.shape[3])
    kernel = torch.outer(gauss(ky), gauss(kx))
    c = img.shape[1]
    padded = F.pad(img, [kx // 2, kx // 2, ky // 2, ky // 2], mode='reflect')
    return F.conv2d(padded, kernel.expand(c, 1, ky, kx), groups=c)


def ref_class_choice(labels, ratio):
    """DAFormer's get_class_masks with HAMLET's count: candidates are the unique
    labels of the whole batch; np.random.choice without replacement."""
    classes = torch.unique(labels)
    n = classes.shape[0]
    choices, masks = [], []
    for label in labels:
        pick = classes[torch.Tensor(np.random.choice(
            n, min(int((n + n % 2) * ratio), n), replace=False)).long()]
        lbl, cls = torch.broadcast_tensors(label, pick.unsqueeze(1).unsqueeze(2))
        masks.append(lbl.eq(cls).sum(0, keepdims=True).float())
        choices.append(pick)
    return choices, masks
