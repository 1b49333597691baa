"""The project's param-wise AdamW (head lr x10, no decay on norms) with adapters:
no parameter in two groups, frozen parameters left out, the right lr/decay."""
import os.path as osp

import pytest
from mmcv import Config
from mmcv.runner import build_optimizer
from mmseg.models import build_segmentor


@pytest.mark.parametrize('variant', ['adapter-half', 'vitadapter', 'vida'])
def test_groups_hold_each_trainable_parameter_once(repo_root, tiny_cfg, variant):
    model = build_segmentor(tiny_cfg(variant))
    cfg = Config.fromfile(osp.join(repo_root, 'configs/_base_/schedules/adamw_peft.py'))
    optimizer = build_optimizer(model, cfg.optimizer)
    in_groups = [id(p) for g in optimizer.param_groups for p in g['params']]
    assert len(in_groups) == len(set(in_groups))
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert set(in_groups) == trainable
    assert len(trainable) < len(list(model.parameters()))
    settings = {name: (g['lr'], g['weight_decay'])
                for g in optimizer.param_groups for name in g['names']}
    assert settings['decode_head.conv_seg.weight'] == pytest.approx((6e-4, 0.01))
    backbone = [n for n in settings if n.startswith('backbone.')]
    assert backbone
    for name in backbone:
        decay = 0. if 'norm' in name else 0.01
        assert settings[name] == pytest.approx((6e-5, decay)), name
    if variant == 'vitadapter':
        assert settings['backbone.injectors.0.query_norm.weight'] == pytest.approx(
            (6e-5, 0.))
