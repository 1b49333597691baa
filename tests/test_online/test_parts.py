"""Unit tests of the runner's parts: detector, policies, schedule, replay, timing."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv import Config

from online_src import (AdaptiveSchedule, DomainDetector, MADPolicy, ReplayBuffer,
                        SampledMADPolicy, SourceStream, StreamTimer, build_training_policy,
                        seeded)
from online_src.apis.online import train_online


def test_detector_fires_once_on_a_step_change():
    det = DomainDetector(window=3, threshold=0.5, min_frames=3)
    flags = [det.update(1.0)['changed'] for _ in range(10)]
    outs = [det.update(2.0) for _ in range(10)]
    assert not any(flags)
    fired = [i for i, o in enumerate(outs) if o['changed']]
    assert fired == [1]  # mean of the window [1, 2, 2] = 1.67 > 1.2
    assert outs[1]['relative_jump'] == pytest.approx(2 / 3)
    assert det.changes[0][1] == pytest.approx(1.0)


def test_detector_state_roundtrip_and_errors():
    det = DomainDetector(window=2, min_frames=2)
    for v in (1.0, 1.1, 0.9, 1.0):
        det.update(v)
    other = DomainDetector(window=2, min_frames=2)
    other.load_state_dict(det.state_dict())
    assert other.update(5.0) == det.update(5.0)
    with pytest.raises(ValueError, match="signal must be one of"):
        DomainDetector(signal='loss')
    with pytest.raises(ValueError, match='non-finite signal'):
        det.update(float('nan'))


def test_sampled_mad_prefers_the_cheap_module_with_equal_gain():
    pol = SampledMADPolicy(total_modules=4, alpha=0.5, temperature=0.1, seed=0)
    assert [pol.choose() for _ in range(1)] == [1]  # tries untried modules first
    for m, t in zip((1, 2, 3, 4), (4.0, 3.0, 2.0, 1.0)):
        pol.loss_ema = 2.0  # the same gain (2 - 1) for every module
        pol.update(m, 1.0, t)
    assert pol.histogram() == pytest.approx([0.0625, 0.125, 0.25, 0.5])
    p = pol.probabilities()
    assert p.argmax() == 3 and p.sum() == pytest.approx(1.0)
    clone = SampledMADPolicy(total_modules=4, alpha=0.5, temperature=0.1, seed=3)
    clone.load_state_dict(pol.state_dict())
    assert [clone.choose() for _ in range(5)] == [pol.choose() for _ in range(5)]
    with pytest.raises(ValueError, match=r"module_policy.type='greedy' is not a registered "
                                         r"module policy; registered: \['fixed', 'mad', "):
        build_training_policy('greedy')
    with pytest.raises(ValueError, match=r'module must be in 1..4'):
        build_training_policy('fixed', module=5)


def test_adaptive_schedule_decays_linearly():
    sched = AdaptiveSchedule(lr_policy='adaptive', lr_gain=2.0, lr_max_scale=5.0,
                             decay_frames=4, mix_ratio=0.5, mix_ratio_max=0.9)
    assert sched.lr_scale() == 1.0 and sched.current_mix_ratio() == 0.5
    sched.on_change(dict(relative_jump=0.5))
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scales = []
    for _ in range(5):
        scales.append(sched.apply(opt))
        sched.step()
    assert scales == pytest.approx([2.0, 1.75, 1.5, 1.25, 1.0])
    assert opt.param_groups[0]['lr'] == pytest.approx(0.1)
    assert AdaptiveSchedule().lr_scale() == 1.0
    with pytest.raises(ValueError, match='mix_ratio_max needs mix_ratio'):
        AdaptiveSchedule(mix_ratio_max=0.9)



def test_adaptive_schedule_warmup_ramps_and_resumes():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = AdaptiveSchedule(warmup_frames=4)
    first = [sched.apply(opt) for _ in range(2)]
    resumed = AdaptiveSchedule(warmup_frames=4)
    resumed.load_state_dict(sched.state_dict())
    rest = [resumed.apply(opt) for _ in range(3)]
    assert first + rest == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])
    assert opt.param_groups[0]['lr'] == pytest.approx(0.1)
    # the warm-up multiplies the adaptive boost
    boosted = AdaptiveSchedule(lr_policy='adaptive', lr_gain=2.0, warmup_frames=2)
    boosted.on_change(dict(relative_jump=0.5))
    assert boosted.apply(opt) == pytest.approx(0.5 * 2.0)
    with pytest.raises(ValueError, match='warmup_frames must be >= 0'):
        AdaptiveSchedule(warmup_frames=-1)

def test_replay_buffer_refills_identically(tiny):
    ds = tiny['SourceDataset'](n=5)
    buf = ReplayBuffer(SourceStream(ds, 2, seed=1), size=2, seed=4)
    first = [buf.next()['img'].data[0].clone() for _ in range(4)]
    state = buf.state_dict()
    after = [buf.next()['img'].data[0].clone() for _ in range(3)]
    fresh = ReplayBuffer(SourceStream(tiny['SourceDataset'](n=5), 2, seed=1), size=2,
                         seed=4)
    fresh.load_state_dict(state)
    again = [fresh.next()['img'].data[0] for _ in range(3)]
    assert all(torch.equal(a, b) for a, b in zip(after, again))
    assert first[0].shape == (2, 3, tiny['H'], tiny['W'])
    assert fresh.source.dataset.draws == ds.draws == 4
    with pytest.raises(ValueError, match='fewer than one batch'):
        SourceStream(tiny['SourceDataset'](n=1), batch_size=2)


def test_seeded_restores_global_state():
    torch.manual_seed(0)
    np.random.seed(0)
    expected = (torch.rand(1), np.random.rand())
    torch.manual_seed(0)
    np.random.seed(0)
    with seeded(1, 2):
        a = (torch.rand(1), np.random.rand())
    with seeded(1, 2):
        b = (torch.rand(1), np.random.rand())
    assert torch.equal(a[0], b[0]) and a[1] == b[1]
    assert torch.equal(torch.rand(1), expected[0]) and np.random.rand() == expected[1]


def test_timer_summary():
    t = StreamTimer()
    t.add(0, True, 0.5, 0.4)
    t.add(0, False, 0.1, 0.0)
    t.add(1, False, 0.1, 0.0)
    s = t.summary()
    assert s['fps'] == pytest.approx(3 / 0.7)
    assert s['adapt_fps'] == pytest.approx(2.0)
    assert s['inference_fps'] == pytest.approx(10.0)
    assert s['step_seconds'] == pytest.approx(0.4)
    assert t.as_array().shape == (3, 4)


TINY_MODULAR_MIT = dict(
    type='ModularEncoderDecoder',
    backbone=dict(type='MixTransformer', in_channels=3, embed_dims=[8, 8, 8, 8],
                  num_heads=[1, 1, 1, 1], depths=[1, 1, 1, 1], mlp_ratios=[2, 2, 2, 2],
                  sr_ratios=[2, 1, 1, 1], patch_sizes=[3, 3, 3, 3], strides=[2, 2, 1, 1],
                  out_indices=(0, 1, 2, 3)),
    decode_head=dict(type='ModularSegFormerHead', exit_modules=[1], in_channels=[8] * 4,
                     in_index=[0, 1, 2, 3], channels=8, dropout_ratio=0.0, num_classes=4,
                     norm_cfg=dict(type='BN', requires_grad=True), align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                      loss_weight=1.0)),
    train_cfg=dict(), test_cfg=dict(mode='whole'))


def test_hamlet_base_streams_as_published(tiny, tmp_path, repo_root):
    """configs/_base_/online/hamlet.py on the tiny stream, scaled to its length."""
    base = osp.join(repo_root, 'configs/_base_/online/')
    schema = Config.fromfile(base + 'online_runner.py').runner.to_dict()
    hamlet = Config.fromfile(base + 'hamlet.py').runner.to_dict()
    runner = {k: v for k, v in hamlet.items() if v != schema[k]}  # what hamlet.py sets
    assert sorted(runner) == ['controller', 'source_buffer']
    controller = runner['controller']
    changed = {k: [n for n in v if v[n] != schema['controller'][k].get(n)]
               for k, v in controller.items() if k != 'schedule'}
    assert changed == dict(budget=[], detector=['enabled'],
                           module_policy=['enabled', 'loss'])
    assert controller['schedule']['type'] == 'hamlet'
    # the stream is 4 x 6 frames: windows of 2 frames, thresholds and budget in scale
    controller['detector'].update(window=2, threshold_up=0.01, threshold_down=-0.01)
    controller['schedule'].update(base_iters=2, max_iters=6, domain_range=(0.5, 2.0))
    runner['source_buffer'].update(size=3, policy='uniform')  # the tiny source has no RCS
    cfg = tiny['cfg'](tmp_path / 'hamlet', frames_per_domain=6, **runner)
    cfg.model = TINY_MODULAR_MIT
    cfg.uda = dict(type='DACS', pseudo_threshold=0.5)
    cfg.optimizer = dict(type='AdamW', lr=1e-3)
    cfg.log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook', by_epoch=False)])
    out = train_online(cfg)
    fps = np.load(osp.join(cfg.work_dir, 'fps.npy'))
    adapted = [int(i) for i in np.flatnonzero(fps[:, 1])]
    changes = [c[0] for c in out.controller.detector.changes]
    # nothing trains before the first detected change; each change opens a budget of
    # frames starting at the next frame
    assert changes and adapted and adapted[0] == changes[0]
    assert all(any(c <= f for c in changes) for f in adapted)
    assert changes == [7, 10, 13, 16, 19, 22]  # frame counts (1-based) of detection
    assert adapted == list(range(7, 24))
    log_json = [f for f in sorted(os.listdir(cfg.work_dir)) if f.endswith('.log.json')]
    with open(osp.join(cfg.work_dir, log_json[0])) as f:
        rows = [json.loads(line) for line in f if '"mode": "train"' in line]
    modules = [int(r['module']) for r in rows if r.get('adapted') == 1.0]
    # (DACS with the published defaults: kornia jitter, batch-statistics teacher)
    assert modules == [1, 1, 2, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3]
    # the same choices from MAD fed the logged mixed-image losses (5 decimals)
    replay = MADPolicy()
    chosen = []
    for r in rows:
        if r.get('adapted') == 1.0:
            chosen.append(replay.choose())
            replay.update(chosen[-1], r['mix.decode.loss_ce'])
    assert chosen == modules
    assert out.controller.policy.times_selected == [modules.count(m) for m in (1, 2, 3, 4)]
    # the source stream cycles through the 3-sample buffer
    assert len(out.replay.source.dataset) == 3
