"""A DACS step against a test-side reimplementation of DAFormer's step.

The reference follows DAFormer's ``mmseg/models/uda/dacs.py`` ``forward_train``
(HAMLET's is the same up to its module selection), written here from the public
code: EMA of the parameters only (momentum ``min(1 - 1/(t+1), alpha)``), the
per-step jitter/blur draws from Python's ``random``, the source loss, the
teacher's pseudo-labels in train mode (dropout and drop-path off, BatchNorm on the
target batch's statistics), the confidence weight ``#(p >= tau) / #pixels`` with
the top/bottom rows zeroed, ClassMix on ``torch.unique`` of the source batch with
``np.random.choice``, kornia 0.5.8's colour jitter, DAFormer's blur, the weighted
mixed loss. Both sides run from identical weights, inputs and seeds.
"""
import copy
import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from dacs_reference import ref_blur, ref_draw, ref_jitter
from mmcv import Config

from mmseg_ext.models import build_train_model

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
H, W = 64, 96


def tiny_cfg():
    """A 4-stage MiT (8-16 channels) with a SegFormer head (BatchNorm, no dropout)."""
    return dict(
        type='CustomEncoderDecoder',
        backbone=dict(type='MixTransformer', embed_dims=[8, 8, 16, 16],
                      num_heads=[1, 1, 2, 2], depths=[1, 1, 1, 1], drop_path_rate=0.),
        decode_head=dict(type='SegformerHead', in_channels=[8, 8, 16, 16],
                         in_index=[0, 1, 2, 3], channels=16, num_classes=19,
                         align_corners=False, dropout_ratio=0.0,
                         norm_cfg=dict(type='BN', requires_grad=True),
                         loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def build(**uda):
    torch.manual_seed(0)
    return build_train_model(Config(dict(model=tiny_cfg(), uda=dict(type='DACS', **uda))))


def batch(seed, n=2):
    g = torch.Generator().manual_seed(seed)
    gt = torch.randint(0, 6, (n, 1, H // 16, W // 16), generator=g) * 3
    gt = gt.repeat_interleave(16, 2).repeat_interleave(16, 3)
    gt[:, :, :4] = 255  # an ignored band
    metas = [dict(img_shape=(H, W, 3), ori_shape=(H, W, 3), pad_shape=(H, W, 3),
                  flip=False, scale_factor=1.0, img_norm_cfg=NORM) for _ in range(n)]
    return dict(img=torch.randn(n, 3, H, W, generator=g), img_metas=metas,
                gt_semantic_seg=gt, target_img=torch.randn(n, 3, H, W, generator=g),
                target_img_metas=copy.deepcopy(metas))


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ------------------------------------------------------------ DAFormer's step
def seg_loss(model, img, gt, weight=None):
    """mmseg's pixel cross-entropy (mean over all pixels), optionally weighted."""
    logits = model.decode_head(model.extract_feat(img))
    logits = F.interpolate(logits, size=gt.shape[2:], mode='bilinear',
                           align_corners=False)
    loss = F.cross_entropy(logits, gt[:, 0].long(), reduction='none', ignore_index=255)
    return (loss if weight is None else loss * weight).mean()


def teacher_pseudo_label(teacher, data, threshold, top=0, bottom=0):
    teacher.train()
    for m in teacher.modules():
        if isinstance(m, torch.nn.Dropout):
            m.training = False
    with torch.no_grad():
        logits = teacher.encode_decode(data['target_img'], data['target_img_metas'])
    prob, label = torch.max(torch.softmax(logits, dim=1), dim=1)
    weight = torch.sum(prob.ge(threshold)).item() / np.size(np.array(label))
    weight = weight * torch.ones(prob.shape)
    if top > 0:
        weight[:, :top, :] = 0
    if bottom > 0:
        weight[:, -bottom:, :] = 0
    return label, weight


class DAFormerStep:
    """DAFormer's DACS step on a copy of the student (SGD, parameter EMA)."""

    def __init__(self, student, alpha, threshold, lr, jitter_p=0.2, strength=0.2):
        self.student = copy.deepcopy(student)
        self.teacher = copy.deepcopy(student)
        self.opt = torch.optim.SGD(self.student.parameters(), lr=lr)
        self.alpha, self.threshold = alpha, threshold
        self.jitter_p, self.strength = jitter_p, strength
        self.iter = 0
        self.applied = []  # (jitter, blur) per step

    def step(self, data):
        if self.iter > 0:
            a = min(1 - 1 / (self.iter + 1), self.alpha)
            for t, s in zip(self.teacher.parameters(), self.student.parameters()):
                t.data = a * t.data + (1 - a) * s.data
        jitter_draw, blur_draw = random.uniform(0, 1), random.uniform(0, 1)
        self.student.train()
        self.opt.zero_grad()
        img, gt, timg = data['img'], data['gt_semantic_seg'], data['target_img']
        seg_loss(self.student, img, gt).backward()
        pl, pw = teacher_pseudo_label(self.teacher, data, self.threshold)
        mean = torch.tensor(NORM['mean']).view(1, 3, 1, 1)
        std = torch.tensor(NORM['std']).view(1, 3, 1, 1)
        classes = torch.unique(gt)
        n = classes.shape[0]
        masks = []
        for label in gt:
            pick = classes[torch.Tensor(np.random.choice(
                n, int((n + n % 2) / 2), replace=False)).long()]
            masks.append(label.eq(pick.view(-1, 1, 1)).sum(0, keepdims=True))
        mixed, mixed_lbl, mixed_w = [], [], []
        for i, m in enumerate(masks):
            x = (m * img[i] + (1 - m) * timg[i]).unsqueeze(0)
            if jitter_draw > self.jitter_p:
                rgb = x.mul(std).add(mean) / 255.0
                rgb = ref_jitter(rgb, ref_draw(1, self.strength))
                x = rgb.mul(255.0).sub(mean).div(std)
            if blur_draw > 0.5:
                x = ref_blur(x, np.random.uniform(0.15, 1.15))
            mixed.append(x)
            mixed_lbl.append((m[0] * gt[i, 0] + (1 - m[0]) * pl[i]).unsqueeze(0))
            mixed_w.append((m[0] * 1.0 + (1 - m[0]) * pw[i]).unsqueeze(0))
        self.applied.append((jitter_draw > self.jitter_p, blur_draw > 0.5))
        seg_loss(self.student, torch.cat(mixed), torch.cat(mixed_lbl)[:, None],
                 torch.cat(mixed_w)).backward()
        grads = [p.grad.clone() for p in self.student.parameters()]
        self.opt.step()
        self.iter += 1
        return grads, float(pw.mean())


# ----------------------------------------------------------------------- tests
def test_pseudo_labels_and_weights_match_daformer():
    model = build(pseudo_weight_ignore_top=3, pseudo_weight_ignore_bottom=5,
                  pseudo_weight_ref_height=H)  # rows as DAFormer's at this height
    model.init_snapshots()
    teacher = copy.deepcopy(model.model)
    data = batch(1)
    probs = torch.softmax(teacher.train().encode_decode(
        data['target_img'], data['target_img_metas']), 1).max(1)[0]
    for threshold in (probs.quantile(0.3).item(), probs.median().item(), 0.968):
        model.pseudo_threshold = threshold
        label, weight = model.pseudo_label(data)
        ref_label, ref_weight = teacher_pseudo_label(teacher, data, threshold, 3, 5)
        assert torch.equal(label, ref_label)
        assert torch.equal(weight, ref_weight)
    assert ref_weight.max() == 0.0  # 0.968: nothing confident at initialisation
    # the variant (eval mode, student running statistics) is another teacher
    model.pseudo_threshold = probs.median().item()
    ref_label, ref_weight = teacher_pseudo_label(teacher, data, model.pseudo_threshold)
    assert 0.45 < ref_weight.mean() < 0.55
    model.norm_stats['teacher'] = 'student_running'
    label, weight = model.pseudo_label(data)
    assert not torch.equal(label, ref_label)


def test_dacs_steps_give_daformer_gradients():
    model = build(alpha=0.99, color_jitter_probability=0.2)
    data = [batch(seed) for seed in (2, 3)]
    probs = torch.softmax(copy.deepcopy(model.model).train().encode_decode(
        data[0]['target_img'], data[0]['target_img_metas']), 1).max(1)[0]
    model.pseudo_threshold = threshold = probs.median().item()
    ref = DAFormerStep(model.model, alpha=0.99, threshold=threshold, lr=0.05)
    opt = torch.optim.SGD(model.model.parameters(), lr=0.05)
    seeds = (5, 0)
    for step, (seed, b) in enumerate(zip(seeds, data)):
        seed_all(seed)
        ref_grads, ref_weight = ref.step(copy.deepcopy(b))
        seed_all(seed)
        logs = model.train_step(copy.deepcopy(b), opt)['log_vars']
        assert math.isclose(logs['pseudo_weight'], ref_weight, rel_tol=1e-6)
        assert 0.0 < ref_weight < 1.0
        for (name, p), g in zip(model.model.named_parameters(), ref_grads):
            assert torch.allclose(p.grad, g, rtol=1e-4, atol=1e-6), (step, name)
    # both draws happened in the steps compared (jitter and blur exercised)
    assert ref.applied == [(True, True), (True, True)]
    # the teacher is the parameter EMA; the students end equal
    for a, b in zip(model.ema_model.parameters(), ref.teacher.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    for a, b in zip(model.model.state_dict().values(), ref.student.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-5)


@pytest.mark.parametrize('variant', [dict(jitter_impl='torchvision'),
                                     dict(norm_stats=dict(teacher='student_running'))])
def test_variants_depart_from_the_reference_step(variant):
    model = build(**variant)
    data = batch(2)
    probs = torch.softmax(copy.deepcopy(model.model).train().encode_decode(
        data['target_img'], data['target_img_metas']), 1).max(1)[0]
    model.pseudo_threshold = threshold = probs.median().item()
    ref = DAFormerStep(model.model, alpha=0.999, threshold=threshold, lr=0.05)
    seed_all(5)
    ref_grads, _ = ref.step(copy.deepcopy(data))
    seed_all(5)
    model.train_step(copy.deepcopy(data), torch.optim.SGD(model.model.parameters(), lr=0.05))
    diff = max((p.grad - g).abs().max().item()
               for p, g in zip(model.model.parameters(), ref_grads))
    assert diff > 1e-4
