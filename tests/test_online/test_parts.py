"""Unit tests of the runner's parts: detector, policies, schedule, replay, timing."""
import numpy as np
import pytest
import torch

from online_src import (AdaptiveSchedule, DomainDetector, ReplayBuffer, SampledMADPolicy,
                        SourceStream, StreamTimer, build_training_policy, seeded)


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
    with pytest.raises(ValueError, match='unknown training_policy'):
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
