"""Per-phase profile of the adaptation step (online_src.apis.profile, tools/profile_step.py)."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv import Config
from mmcv.parallel import DataContainer as DC
from mmseg.datasets import DATASETS

from online_src.apis.profile import format_profiles, phase_of_lines, profile_steps
from mmseg_ext.models import build_train_model

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W, NC = 32, 64, 19
NORM = dict(mean=np.zeros(3, np.float32), std=np.ones(3, np.float32), to_rgb=False)
DACS_PHASES = ['zero grad', 'Update the EMA teacher', 'Train on source images', 'backward',
               'Pseudo-label the target with the teacher', 'ClassMix',
               'Train on the mixed images', 'optimizer step']


def _tiny_cfg(**uda):
    backbone = dict(type='MixTransformer', embed_dims=[8, 8, 16, 16], num_heads=[1, 1, 2, 2],
                    depths=[1, 1, 1, 1], drop_path_rate=0.)
    head = dict(type='SegformerHead', in_channels=[8, 8, 16, 16], in_index=[0, 1, 2, 3],
                channels=16, num_classes=NC, align_corners=False, dropout_ratio=0.0,
                norm_cfg=dict(type='BN', requires_grad=True),
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    return Config(dict(
        model=dict(type='CustomEncoderDecoder', backbone=backbone, decode_head=head,
                   train_cfg=dict(), test_cfg=dict(mode='whole')),
        uda=dict(type='DACS', **uda),
        optimizer=dict(type='AdamW', lr=1e-3),
        runner=dict(type='OnlineRunner', domain_order=['25mm']),
        data=dict(samples_per_gpu=1, workers_per_gpu=0,
                  train=[dict(type='ProfileTinyDataset', name='source'),
                         dict(type='ProfileTinyDataset', name='25mm', domain=25)])))


def _sample(seed):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, NC, (1, H // 8, W // 8), generator=g)
    gt = coarse.repeat_interleave(8, 1).repeat_interleave(8, 2)
    img = torch.randn(NC, 3, generator=g)[gt[0]].permute(2, 0, 1)
    meta = dict(filename=f'{seed}.png', ori_shape=(H, W, 3), img_shape=(H, W, 3),
                pad_shape=(H, W, 3), scale_factor=1.0, flip=False,
                flip_direction='horizontal', img_norm_cfg=NORM)
    return img, meta, gt


class ProfileTinyDataset:
    """Blocky random scenes as mmseg's train pipeline gives them."""

    def __init__(self, name, domain=0, n=3):
        self.name, self.domain, self.n = name, domain, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        img, meta, gt = _sample(1000 * self.domain + i)
        return dict(img=DC(img, stack=True), img_metas=DC(meta, cpu_only=True),
                    gt_semantic_seg=DC(gt, stack=True))


if 'ProfileTinyDataset' not in DATASETS.module_dict:
    DATASETS.register_module(module=ProfileTinyDataset)


def _batches():
    i = 0
    while True:
        img, meta, gt = _sample(i)
        timg, tmeta, _ = _sample(i + 7)
        yield dict(img=img[None], img_metas=[meta], gt_semantic_seg=gt[None],
                   target_img=timg[None], target_img_metas=[tmeta])
        i += 1


def _method(**uda):
    torch.manual_seed(0)
    method = build_train_model(_tiny_cfg(**uda))
    method.init_weights()
    return method, torch.optim.AdamW(
        [p for p in method.parameters() if p.requires_grad], lr=1e-3)


def test_phase_of_lines_follows_phase_comments():
    def step(self, x, optimizer):
        """Doc.

        # not a phase: inside the docstring
        """
        optimizer.zero_grad()
        y = x + 1
        # Update the teacher (warm-up).
        self.ema(y)
        # Train on source. Forward then backward.
        loss = self.forward(y)
        if loss > 0:
            # a nested comment is no phase
            loss.backward()
        optimizer.step()
        self.adapt(y)

    mapping = phase_of_lines(step)
    first = step.__code__.co_firstlineno
    got = {ln - first: p for ln, p in mapping.items()}
    assert got == {5: 'zero grad', 6: 'other', 8: 'Update the teacher',
                   10: 'Train on source', 11: 'Train on source', 13: 'backward',
                   14: 'optimizer step', 15: None}


def test_dacs_step_phases():
    method, optimizer = _method()
    prof = profile_steps(method, optimizer, _batches(), steps=2, warmup=1)
    names = [r['phase'] for r in prof['phases']]
    assert [n for n in names if n in DACS_PHASES] == DACS_PHASES
    rows = {r['phase']: r for r in prof['phases']}
    assert sum(r['share'] for r in prof['phases']) == pytest.approx(1.0)
    for phase in DACS_PHASES:
        assert rows[phase]['hits'] == 2
        assert rows[phase]['ms_per_hit'] == pytest.approx(
            rows[phase]['ms_per_step'])  # one hit per step
    # the profiled lines add up to (about) the step's wall time
    total = sum(r['ms_per_step'] for r in prof['phases'])
    assert 0.5 * prof['step_ms'] < total <= 1.05 * prof['step_ms']
    assert int(method.local_iter) == 3  # warm-up + profiled steps ran
    # backward holds the backward passes: source and mixed (2 lines x 2 hits)
    backward_lines = [ln for ln in prof['lines'] if ln['phase'] == 'backward'
                      and ln['hits'] > 0 and 'parse_and_backward' in ln['code']]
    assert len(backward_lines) == 2


def test_side_by_side_table_and_cli_json(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'profile_step_tool', osp.join(REPO, 'tools', 'profile_step.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    full, frozen = tmp_path / 'full.py', tmp_path / 'frozen.py'
    _tiny_cfg().dump(str(full))
    _tiny_cfg(freeze_backbone=True).dump(str(frozen))
    out = tmp_path / 'prof.json'
    profiles = tool.main([str(full), str(frozen), '--steps', '1', '--warmup', '1',
                          '--names', 'full', 'frozen', '--device', 'cpu', '--json', str(out),
                          '--cfg-options', 'seed=1'])
    text = capsys.readouterr().out
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith('| phase'))
    assert [c.strip() for c in lines[top].split('|')[2:-1]] == [
        'full ms/hit', 'full hits', 'full share %', 'frozen ms/hit', 'frozen hits',
        'frozen share %']
    rows = {c[1].strip(): c[2:-1] for c in (line.split('|') for line in lines[top + 2:])
            if len(c) > 2}
    assert [float(v) for v in rows['whole step (wall)'][0::3]] == pytest.approx(
        [p['step_ms'] for p in profiles], abs=0.006)
    assert [int(v) for v in rows['optimizer step'][1::3]] == [1, 1]
    for phase in DACS_PHASES:
        assert phase in text
    saved = json.load(open(out))
    assert [p['name'] for p in saved] == ['full', 'frozen']
    assert [p['steps'] for p in saved] == [1, 1]
    assert saved[1]['phases'] == profiles[1]['phases']
    table = format_profiles(profiles)
    assert table.count('whole step (wall)') == 1


def test_bad_arguments():
    method, optimizer = _method()
    with pytest.raises(ValueError, match='steps must be >= 1, got 0'):
        profile_steps(method, optimizer, _batches(), steps=0)
    from online_src.apis.profile import build_step_inputs
    with pytest.raises(ValueError, match=r"domain 'fog' is not one of the target "
                                         r"datasets \['25mm'\]"):
        build_step_inputs(_tiny_cfg(), domain='fog', device='cpu')
