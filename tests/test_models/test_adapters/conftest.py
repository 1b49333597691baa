"""Tiny versions of the adapter variants' model configs."""
import os.path as osp

import pytest
from mmcv import Config

WIDTHS = [16, 32, 40, 64]


@pytest.fixture
def tiny_cfg(repo_root):
    """``make(variant=None)``: the model config of ``segformer_mit-b1[_variant].py``
    with tiny widths (same structure, same keys)."""

    def make(variant=None):
        name = 'segformer_mit-b1' + (f'_{variant}' if variant else '')
        model = Config.fromfile(
            osp.join(repo_root, 'configs/_base_/models', name + '.py')).model
        model.backbone.embed_dims = WIDTHS
        model.decode_head.in_channels = WIDTHS
        model.decode_head.channels = 16
        if 'spatial_prior_cfg' in model.backbone:
            model.backbone.spatial_prior_cfg.update(inplanes=8, embed_dims=16)
        if model.decode_head.type == 'SegformerSkipHead':
            model.decode_head.skip_channels = 16
        if model.get('auxiliary_head'):
            model.auxiliary_head.update(in_channels=16, channels=8)
        if 'vida_cfg' in model.backbone:
            model.backbone.vida_cfg.high_rank = 8
        return model

    return make
