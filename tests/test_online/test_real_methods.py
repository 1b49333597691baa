"""The runner with the project's methods and a tiny MiT segmentor (integration)."""
import json
import os.path as osp

import numpy as np
import pytest

from online_src.apis.online import train_online

TINY_MIT = dict(
    type='CustomEncoderDecoder',
    backbone=dict(type='MixTransformer', in_channels=3, embed_dims=[8, 8, 8, 8],
                  num_heads=[1, 1, 1, 1], depths=[1, 1, 1, 1], mlp_ratios=[2, 2, 2, 2],
                  sr_ratios=[2, 1, 1, 1], patch_sizes=[3, 3, 3, 3], strides=[2, 2, 1, 1],
                  out_indices=(0, 1, 2, 3)),
    decode_head=dict(type='SegformerHead', in_channels=[8, 8, 8, 8], in_index=[0, 1, 2, 3],
                     channels=8, dropout_ratio=0.0, num_classes=4,
                     norm_cfg=dict(type='BN', requires_grad=True), align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                      loss_weight=1.0)),
    train_cfg=dict(), test_cfg=dict(mode='whole'))


@pytest.mark.parametrize('uda,runner,adapted', [
    (dict(type='SourceOnly'), dict(adapt=False), 0),
    (dict(type='TENT'), dict(), 4),
    (dict(type='DACS', pseudo_threshold=0.5), dict(replay_buffer_size=2), 4),
    (dict(type='DACS', pseudo_threshold=0.5),
     dict(controller=dict(budget=dict(frames=1, trigger='domain'),
                          module_policy=dict(enabled=True, type='random'))), 2),
])
def test_methods_stream(tiny, tmp_path, uda, runner, adapted):
    cfg = tiny['cfg'](tmp_path / 'run', domain_order=['clear', '25mm'],
                      frames_per_domain=2, **runner)
    modular = 'controller' in runner
    cfg.model = dict(TINY_MIT, type='ModularEncoderDecoder') if modular else TINY_MIT
    cfg.uda = uda
    cfg.optimizer = dict(type='AdamW', lr=1e-3)
    out = train_online(cfg)
    fps = np.load(osp.join(cfg.work_dir, 'fps.npy'))
    assert fps.shape == (4, 4) and int(fps[:, 1].sum()) == adapted
    with open(osp.join(cfg.work_dir, 'results.json')) as f:
        rows = json.load(f)
    assert [r['after'] for r in rows] == ['init', 'clear', '25mm']
    if adapted == 0:  # nothing trains: every evaluation equals the initial one
        assert rows[2]['clear.mIoU'] == pytest.approx(rows[0]['clear.mIoU'])
    if modular:
        assert out.method.local_iter.item() == 2
