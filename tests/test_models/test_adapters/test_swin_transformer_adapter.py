"""Swin with adapters: mmseg's SwinTransformer logits at init (same parameter
names), only adapters train, bad stages; the Swin configs build."""
import os.path as osp

import pytest
import torch
from mmcv import Config
from mmseg.models import build_backbone, build_segmentor

from mmseg_ext.models.utils import make_reference_model

TINY = dict(embed_dims=8, depths=[1, 1, 2, 1], num_heads=[1, 2, 2, 4], window_size=4,
            pretrain_img_size=64, drop_path_rate=0.1)
WIDTHS = [8, 16, 32, 64]


def swin_cfg(repo_root, name):
    model = Config.fromfile(osp.join(repo_root, 'configs/_base_/models', name)).model
    model.backbone.update(TINY)
    model.decode_head.in_channels = WIDTHS
    model.decode_head.channels = 16
    if model.get('auxiliary_head'):
        model.auxiliary_head.update(in_channels=WIDTHS[2], channels=8)
    return model


@pytest.mark.parametrize('name', ['segformer_swin-t.py', 'upernet_swin-t.py'])
def test_swin_configs_build_and_segment(repo_root, name):
    model = build_segmentor(swin_cfg(repo_root, name)).eval()
    img = torch.randn(1, 3, 64, 96)
    metas = [dict(img_shape=(64, 96, 3), ori_shape=(64, 96, 3), pad_shape=(64, 96, 3),
                  flip=False)]
    with torch.no_grad():
        assert model.encode_decode(img, metas).shape == (1, 19, 64, 96)


def test_swin_adapter_equals_swin_at_init_and_trains_only_adapters(repo_root):
    torch.manual_seed(0)
    plain = build_segmentor(swin_cfg(repo_root, 'segformer_swin-t.py'))
    plain.init_weights()
    model = build_segmentor(swin_cfg(repo_root, 'segformer_swin-t_adapter-half.py'))
    model.init_weights()
    missing, unexpected = model.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == []
    assert len(missing) == 4 * 3 and all('.ffn.adapter.' in k for k in missing)
    img = torch.randn(2, 3, 64, 96)
    metas = [dict(img_shape=(64, 96, 3), ori_shape=(64, 96, 3), pad_shape=(64, 96, 3),
                  flip=False)] * 2
    plain.eval()
    model.eval()
    with torch.no_grad():
        assert torch.allclose(model.encode_decode(img, metas),
                              plain.encode_decode(img, metas), atol=1e-5)
    model.train()
    losses = model.forward_train(img, metas, torch.randint(0, 19, (2, 1, 64, 96)))
    losses['decode.loss_ce'].backward()
    trainable = [n for n, p in model.backbone.named_parameters() if p.grad is not None]
    assert len(trainable) == 12 and all('adapter' in n for n in trainable)
    up = model.backbone.stages[3].blocks[0].ffn.adapter.up.weight
    assert up.shape == (64, 16) and up.grad.abs().sum().item() > 0
    # adapted: the copy mirrors the adapters, or is the plain Swin without them
    with torch.no_grad():
        up.normal_()
    model.eval()
    plain.decode_head.load_state_dict(model.decode_head.state_dict())  # BN stats moved
    mirror = make_reference_model(model, mode='mirror')
    pretrained = make_reference_model(model, mode='pretrained')
    with torch.no_grad():
        adapted = model.encode_decode(img, metas)
        assert torch.equal(mirror.encode_decode(img, metas), adapted)
        assert torch.allclose(pretrained.encode_decode(img, metas),
                              plain.encode_decode(img, metas), atol=1e-5)
        assert (adapted - plain.encode_decode(img, metas)).abs().max().item() > 1e-4


def test_swin_adapter_bad_config():
    with pytest.raises(ValueError, match=r'adapt_blocks \(4,\) must be stages in 0..3'):
        build_backbone(dict(type='SwinTransformerAdapter', adapt_blocks=[4], **TINY))
    with pytest.raises(ValueError, match='only apply with freeze_backbone=True'):
        build_backbone(dict(type='SwinTransformerAdapter', trainable_keys=['adapter'],
                            **TINY))
    with pytest.raises(ValueError, match="trainable key 'adaptr' matches no parameter"):
        build_backbone(dict(type='SwinTransformerAdapter', adapt_blocks=[3],
                            freeze_backbone=True, trainable_keys=['adaptr'], **TINY))
