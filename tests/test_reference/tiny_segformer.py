"""A tiny SegFormer and frames for the reference-fidelity tests."""
import copy

import torch
import mmcv
from mmcv import Config
from mmseg.models import build_segmentor

import mmseg_ext  # noqa: F401  (registers the project's components)
from mmseg_ext.models import build_train_model


def tiny_segformer_cfg(drop=0.1):
    """A 4-stage MiT (8-16 channels) and a SegFormer head with BatchNorm;
    ``drop`` is the drop-path rate and the head's dropout (so train and eval
    mode compute different functions)."""
    return dict(
        type='CustomEncoderDecoder',
        backbone=dict(type='MixTransformer', embed_dims=[8, 8, 16, 16],
                      num_heads=[1, 1, 2, 2], depths=[1, 1, 1, 1], drop_path_rate=drop),
        decode_head=dict(type='SegformerHead', in_channels=[8, 8, 16, 16],
                         in_index=[0, 1, 2, 3], channels=16, num_classes=5,
                         align_corners=False, dropout_ratio=drop,
                         norm_cfg=dict(type='BN', requires_grad=True),
                         loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def build_pair(uda, drop=0.1, peaky=20.0):
    """The project's method around a tiny model (seed 0) and a plain mmseg
    ``EncoderDecoder`` with the same source weights, for the reference code.

    The classifier weights are scaled by ``peaky`` so the random model is
    confident somewhere (softmax maxima spread over (0, 1)). BatchNorm running
    statistics are set away from (0, 1) so that using them or the batch's
    statistics gives different outputs.
    """
    torch.manual_seed(0)
    method = build_train_model(Config(dict(model=tiny_segformer_cfg(drop), uda=uda)))
    with torch.no_grad():
        method.model.decode_head.conv_seg.weight.mul_(peaky)
        for m in method.model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    plain_cfg = dict(tiny_segformer_cfg(drop), type='EncoderDecoder')
    reference = build_segmentor(mmcv.ConfigDict(copy.deepcopy(plain_cfg)))
    reference.load_state_dict(method.model.state_dict())
    return method, reference


def frames(n=1, h=64, w=96, seed=0):
    """Smooth random frames ``[n, 3, h, w]`` and their metas."""
    g = torch.Generator().manual_seed(seed)
    img = torch.nn.functional.interpolate(torch.randn(n, 3, h // 4, w // 4, generator=g),
                                          size=(h, w), mode='bilinear',
                                          align_corners=False)
    metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                  flip=False, scale_factor=1.0) for _ in range(n)]
    return img, metas
