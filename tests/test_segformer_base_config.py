"""SegFormer-B0 built from the project's `_base_` config through mmseg's registry."""
import os.path as osp

import torch
from mmcv.utils import Config
from mmseg.models import build_segmentor


def test_segformer_b0_from_base_config_gives_logits_of_expected_shape(repo_root):
    cfg = Config.fromfile(osp.join(repo_root, 'configs/_base_/models/segformer_mit-b0.py'))
    model = build_segmentor(cfg.model).eval()
    assert type(model.backbone).__name__ == 'MixTransformer'
    n_params = sum(p.numel() for p in model.backbone.parameters())
    assert 3.2e6 < n_params < 3.4e6  # MiT-B0 encoder: 3.3M
    img = torch.randn(1, 3, 64, 128)
    with torch.no_grad():
        logits = model.encode_decode(img, [dict(img_shape=(64, 128, 3), ori_shape=(64, 128, 3),
                                                pad_shape=(64, 128, 3), flip=False)])
    assert logits.shape == (1, 19, 64, 128)
    assert torch.isfinite(logits).all()
