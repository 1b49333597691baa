"""CustomEncoderDecoder, ModularEncoderDecoder."""
import numpy as np
import pytest
import torch
from mmcv import ConfigDict
from mmseg.models import build_segmentor

NORM = dict(type='BN', requires_grad=True)
BACKBONE = dict(type='MixTransformer', embed_dims=[8, 16, 24, 32], num_heads=[1, 2, 3, 4],
                depths=[1, 1, 1, 1], drop_path_rate=0.)


def model_cfg(seg_type='CustomEncoderDecoder', head_type='SegformerHead', **kwargs):
    head = dict(type=head_type, in_channels=[8, 16, 24, 32], in_index=[0, 1, 2, 3],
                channels=12, num_classes=5, norm_cfg=NORM, align_corners=False,
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    if head_type == 'ModularSegFormerHead':
        head['exit_modules'] = (1,)
    return ConfigDict(type=seg_type, backbone=BACKBONE, decode_head=head,
                      train_cfg=dict(), test_cfg=dict(mode='whole'), **kwargs)


def batch(n=2, h=32, w=64):
    torch.manual_seed(0)
    img = torch.randn(n, 3, h, w)
    gt = torch.randint(0, 5, (n, 1, h, w))
    metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                  flip=False, scale_factor=1.0) for _ in range(n)]
    return img, metas, gt


def test_custom_seg_weight_and_features():
    torch.manual_seed(0)
    model = build_segmentor(model_cfg())
    model.eval()  # deterministic dropout/BN so the losses can be compared
    img, metas, gt = batch()
    plain = model.forward_train(img, metas, gt)
    ones = model.forward_train(img, metas, gt, seg_weight=torch.ones(2, 32, 64))
    zeros = model.forward_train(img, metas, gt, seg_weight=torch.zeros(2, 32, 64),
                                return_feat=True)
    assert torch.allclose(plain['decode.loss_ce'], ones['decode.loss_ce'])
    assert zeros['decode.loss_ce'].item() == 0.
    assert [f.shape[1] for f in zeros['features']] == [8, 16, 24, 32]
    with pytest.raises(ValueError, match=r'seg_weight has spatial shape \(16, 16\), '
                                         r'expected the label shape \(32, 64\)'):
        model.forward_train(img, metas, gt, seg_weight=torch.ones(2, 16, 16))


@pytest.mark.parametrize('seg_type', ['CustomEncoderDecoder', 'ModularEncoderDecoder'])
def test_mmseg_test_api(seg_type):
    model = build_segmentor(model_cfg(seg_type)).eval()
    img, metas, _ = batch(n=1)
    with torch.no_grad():
        result = model(img=[img], img_metas=[metas], return_loss=False)
    assert len(result) == 1 and result[0].shape == (32, 64)
    assert result[0].dtype == np.int64 and 0 <= result[0].min() and result[0].max() < 5


def test_modular_train_from_module():
    model = build_segmentor(model_cfg('ModularEncoderDecoder', 'ModularSegFormerHead'))
    model.train()
    img, metas, gt = batch()
    losses = model.forward_train(img, metas, gt, train_from_module=3)
    losses['decode.loss_ce'].backward()
    bb = model.backbone
    for stage in (0, 1):
        assert all(p.grad is None for p in bb.blocks[stage].parameters())
        assert all(p.grad is None for p in bb.patch_embeds[stage].parameters())
    for stage in (2, 3):
        assert bb.patch_embeds[stage].proj.weight.grad.abs().sum() > 0
    assert model.decode_head.linear_c[0].proj.weight.grad.abs().sum() > 0
    assert model.decode_head.exit_fuses['1'].conv.weight.grad is None  # exit not used


def test_modular_decode_from_module_1():
    model = build_segmentor(model_cfg('ModularEncoderDecoder', 'ModularSegFormerHead',
                                      decode_module=1)).eval()
    img, metas, gt = batch(n=1)
    with torch.no_grad():
        feats = model.extract_feat(img)
        result = model.simple_test(img, metas)
    assert len(feats) == 1 and feats[0].shape == (1, 8, 8, 16)
    assert result[0].shape == (32, 64)
    model.train()
    losses = model.forward_train(img, metas, gt)
    losses['decode.loss_ce'].backward()
    assert model.decode_head.exit_fuses['1'].conv.weight.grad.abs().sum() > 0
    assert model.backbone.blocks[1][0].attn.q.weight.grad is None  # stage 2 never ran


def test_modular_bad_input():
    with pytest.raises(ValueError, match=r'decode_module must be a module in 1..4, got 5'):
        build_segmentor(model_cfg('ModularEncoderDecoder', decode_module=5))
    model = build_segmentor(model_cfg('ModularEncoderDecoder', 'ModularSegFormerHead'))
    img, metas, gt = batch(n=1)
    with pytest.raises(ValueError,
                       match='train_from_module 3 is after the decoded module 1'):
        model.forward_train(img, metas, gt, train_from_module=3, module=1)
    with pytest.raises(ValueError, match='decode_head SegformerHead cannot decode from '
                                         'module 2; use ModularSegFormerHead'):
        build_segmentor(model_cfg('ModularEncoderDecoder', decode_module=2))
    with pytest.raises(ValueError,
                       match='ModularSegFormerHead cannot decode from module 3'):
        model.forward_train(img, metas, gt, module=3)
    from mmseg_ext.models.backbones import MixTransformer

    class OldForward(MixTransformer):
        def forward(self, x, num_modules=None):
            return super().forward(x, num_modules)

    # a subclass whose forward has no train_from_module cannot be cut into modules
    with pytest.raises(TypeError, match=r'OldForward.forward takes no train_from_module'):
        model.check_backbone(OldForward(**{k: v for k, v in BACKBONE.items()
                                           if k != 'type'}))
    cfg = model_cfg('ModularEncoderDecoder')
    cfg['backbone'] = dict(type='MixVisionTransformer', embed_dims=8,
                           num_heads=[1, 2, 3, 4], num_layers=[1, 1, 1, 1])
    with pytest.raises(TypeError, match='backbone MixVisionTransformer has no '
                                        "'forward_stage'"):
        build_segmentor(cfg)


def test_modular_config(repo_root):
    import os.path as osp

    from mmcv import Config
    cfg = Config.fromfile(osp.join(repo_root,
                                   'configs/_base_/models/segformer_mit-b1_modular.py'))
    cfg.model.decode_module = 1
    model = build_segmentor(cfg.model).eval()
    assert model.decode_head.channels == 256 and model.decode_head.exit_modules == (1,)
    with torch.no_grad():
        logits = model.encode_decode(torch.randn(1, 3, 64, 64), [{}])
    assert logits.shape == (1, 19, 64, 64)


def test_head_channels_must_match_backbone():
    cfg = model_cfg()
    cfg.decode_head.in_channels = [8, 16, 24, 64]
    with pytest.raises(ValueError, match=r'decode_head.in_channels \[8, 16, 24, 64\] '
                                         r'do not match the backbone outputs '
                                         r'\[8, 16, 24, 32\]'):
        build_segmentor(cfg)
    cfg = model_cfg('ModularEncoderDecoder')
    cfg.backbone = dict(BACKBONE, out_indices=(0, 1))
    with pytest.raises(ValueError, match=r'in_index \[0, 1, 2, 3\] selects more than the 2 '
                                         r'backbone outputs'):
        build_segmentor(cfg)


@pytest.mark.parametrize('seg_type', ['CustomEncoderDecoder', 'ModularEncoderDecoder'])
def test_segmentor_type_switch_on_base_config(repo_root, seg_type):
    import os.path as osp

    from mmcv import Config
    cfg = Config.fromfile(osp.join(repo_root, 'configs/_base_/models/segformer_mit-b0.py'))
    cfg.model.type = seg_type
    model = build_segmentor(cfg.model)
    assert type(model).__name__ == seg_type and model.init_parts == ('encoder', 'decoder')
