"""Tiny segmentors and online batches for the adaptation-method tests."""
import functools

import numpy as np
import pytest
import torch

from mmseg_ext.datasets.synth import render_rain, render_scene

NUM_CLASSES = 19
NORM_CFG = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                to_rgb=True)


def tiny_model_cfg(seg_type='CustomEncoderDecoder', backbone_type='MixTransformer'):
    """A 4-stage MiT with 8-16 channels and a SegFormer head (about 20K params)."""
    if backbone_type == 'MixTransformer':
        backbone = dict(type='MixTransformer', embed_dims=[8, 8, 16, 16],
                        num_heads=[1, 1, 2, 2], depths=[1, 1, 1, 1],
                        drop_path_rate=0.)
        in_channels = [8, 8, 16, 16]
    else:  # mmseg's reference MiT
        backbone = dict(type='MixVisionTransformer', embed_dims=8, num_stages=4,
                        num_layers=[1, 1, 1, 1], num_heads=[1, 1, 2, 2],
                        patch_sizes=[7, 3, 3, 3], sr_ratios=[8, 4, 2, 1],
                        mlp_ratio=2, drop_path_rate=0.)
        in_channels = [8, 8, 16, 16]
    head = dict(type='SegformerHead', in_channels=in_channels, in_index=[0, 1, 2, 3],
                channels=16, num_classes=NUM_CLASSES, align_corners=False, dropout_ratio=0.0,
                norm_cfg=dict(type='BN', requires_grad=True),
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    return dict(type=seg_type, backbone=backbone, decode_head=head, train_cfg=dict(),
                test_cfg=dict(mode='whole'))


@functools.lru_cache(maxsize=16)
def _proccity(seed, h, w, rain):
    """A ProcCity frame (clear, or rained on at ``rain`` mm/h) as mmseg tensors."""
    img, label, depth = render_scene(seed, height=h, width=w)
    if rain:
        img = render_rain(img, depth, rain, np.random.default_rng(seed))
    mean = np.array(NORM_CFG['mean'], np.float32)
    std = np.array(NORM_CFG['std'], np.float32)
    img = torch.from_numpy((img.astype(np.float32) - mean) / std).permute(2, 0, 1)
    return img, torch.from_numpy(label.astype(np.int64))[None]


def online_batch(n=1, h=64, w=128, seed=0, target_labels=True, source=True, rain=200):
    """A source/target batch as the online runner gives it: tiny ProcCity scenes,
    clear for the source, rained on (``rain`` mm/h) for the target; mmseg metas."""

    def sample(first_seed, rate):
        frames = [_proccity(first_seed + i, h, w, rate) for i in range(n)]
        img = torch.stack([f[0] for f in frames])
        gt = torch.stack([f[1] for f in frames])
        metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                      flip=False, scale_factor=1.0, img_norm_cfg=NORM_CFG)
                 for _ in range(n)]
        return img, metas, gt

    batch = {}
    if source:
        batch['img'], batch['img_metas'], batch['gt_semantic_seg'] = sample(
            1000 * seed, 0)
    timg, tmetas, tgt = sample(1000 * seed + 500, rain)
    batch.update(target_img=timg, target_img_metas=tmetas)
    if target_labels:
        batch['target_gt_semantic_seg'] = tgt
    return batch


@pytest.fixture
def model_cfg():
    return tiny_model_cfg


@pytest.fixture
def make_batch():
    return online_batch
