"""HAMLET's domain detector, training budget, learning rate and dynamic ClassMix.

Reference: MarcBotet/hamlet, ``online_src/domain_indicator_orchestrator.py``
(``DomainIndicator``: window means, absolute thresholds, budget, dynamic DACS),
``online_src/online_runner.py`` (frame order, ``get_lr``/``replace_lr_hook``),
``online_src/lr/lr_policies.py`` (``LinearDecayLrUpdaterHook``) and the defaults of
``experiments.py`` / ``mmseg/apis/train.py`` (limit 75, thresholds +-0.23, source and
far values 0.8 / 2.55, base_iters 750, max 4450, reduce (0.25, 0.75), dynamic DACS
(0.5, 0.75), lr 1.5e-5, far lr 6e-5, max lr 1e-3). Reimplemented below from that
code; the project's classes are driven in the runner's frame order.
"""
import numpy as np
import pytest
import torch

from online_src import HamletDomainDetector, HamletSchedule

LR = 1.5e-5


class ReferenceIndicator:
    """HAMLET's DomainIndicator and the lr its runner sets, frame by frame."""

    def __init__(self, policy='adaptive_slope', limit=75, up=0.23, down=-0.23,
                 src=0.8, far=2.55, base_iters=750, max_iters=4450, reduce=(0.25, 0.75),
                 dynamic=(0.5, 0.75), lr=LR, far_lr=4 * LR, max_lr=1e-3):
        self.__dict__.update(policy=policy, limit=limit, up=up, down=down, src=src,
                             far=far, base_iters=base_iters, max_iters=max_iters,
                             reduce=reduce, dynamic=dynamic, initial_lr=lr, far_lr=far_lr,
                             max_lr=max_lr)
        self.mem, self.prev, self.last = [], None, None
        self.iters = self.iters_train = 0
        self.dacs = dynamic[0] if dynamic else 0.5
        self.lr_value = lr  # DomainIndicator.lr ('adaptive_init')
        self.hook = ('fixed', lr, None)  # (kind, base lr, max_progress)

    def interp(self, x, vals, direction):
        return np.interp(x, [self.src, self.far], vals) if direction < 0 else 1

    def frame_lr(self):
        kind, base, max_progress = self.hook
        if kind == 'fixed':
            return self.initial_lr
        new = base + (0.0 - base) * (self.iters / max_progress)
        return new if new > 0 else 0

    def frame(self, signal):
        """One frame; returns (trained, lr of the frame, source-class ratio, changed)."""
        lr = self.frame_lr()
        train = self.iters < self.iters_train
        self.iters += 1
        dacs = self.dacs
        self.mem.append(signal)
        changed = self.domain_changed()
        if changed:
            self.replace_lr_hook(lr)
        return train, lr, 1 - dacs, changed

    def domain_changed(self):
        if len(self.mem) < self.limit:
            return False
        val = np.mean(self.mem)
        if self.prev is None:
            self.prev = val
            return False
        changed = False
        diff = val - self.prev
        if diff > self.up or diff < self.down:
            changed, direction = True, np.sign(val - self.prev)
            self.update_args(direction, val)
            self.prev = None
        self.mem = []
        self.last = val
        return changed

    def update_args(self, direction, val):
        if self.dynamic:
            self.dacs = self.interp(val, list(self.dynamic), -1)
        iters = self.base_iters * self.interp(val, list(self.reduce), direction)
        ratio = abs(val - self.prev) / self.up
        if self.policy != 'adaptive_init':
            self.iters_train = int(ratio * iters) + max(self.iters_train - self.iters, 0)
            self.iters_train = min(self.iters_train, self.max_iters)
        else:
            self.lr_value = min(2 * ratio * self.initial_lr, self.max_lr)
            self.iters_train = iters
        self.iters = 0

    def replace_lr_hook(self, current_lr):
        far = np.interp(self.last, [self.src, self.far], [self.initial_lr, self.far_lr])
        if self.policy == 'constant':
            return  # HAMLET keeps the fixed hook, which restores the initial lr
        if self.policy == 'adaptive_init':
            lr = min(self.lr_value + current_lr, self.max_lr)
            self.hook = ('linear', lr, self.base_iters)
        else:
            self.hook = ('linear', far, self.iters_train)


def project_frames(signals, policy='adaptive_slope', **det_kwargs):
    """The project's detector and schedule in the runner's frame order."""
    det = HamletDomainDetector(**det_kwargs)
    sched = HamletSchedule(lr_policy=policy)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    out = []
    for s in signals:
        train = sched.training()
        lr = sched.lr_scale() * LR
        if train:
            assert sched.apply(opt) * LR == pytest.approx(opt.param_groups[0]['lr'])
        mix = sched.current_mix_ratio()
        sched.step()
        d = det.update(s)
        if d['changed']:
            sched.on_change(d)
        out.append((train, lr, mix, d['changed']))
    return out


def storm_signals(seed=0):
    """A source level, two rises, a fall (loss units of HAMLET's Cityscapes runs)."""
    rng = np.random.default_rng(seed)
    levels = [(0.80, 200), (1.15, 300), (1.90, 400), (1.30, 500), (2.60, 300)]
    return np.concatenate([lvl + rng.normal(0, 0.05, n) for lvl, n in levels])


@pytest.mark.parametrize('policy', ['adaptive_slope', 'adaptive_init', 'constant'])
def test_detector_budget_lr_and_mix_equal_hamlet(policy):
    signals = storm_signals()
    ref = ReferenceIndicator(policy=policy)
    expected = [ref.frame(s) for s in signals]
    got = project_frames(signals, policy)
    changes = [t for t, e in enumerate(expected) if e[3]]
    assert [t for t, g in enumerate(got) if g[3]] == changes
    assert [g[0] for g in got] == [bool(e[0]) for e in expected]
    trained = [t for t, e in enumerate(expected) if e[0]]
    lrs = np.array([g[1] for g in got])[trained]
    assert lrs == pytest.approx(np.array([e[1] for e in expected])[trained], rel=1e-9)
    assert [g[2] for g in got] == pytest.approx([e[2] for e in expected], abs=1e-12)
    # levels change at frames 200, 500, 900, 1400; frames 0..74 set the level, 75
    # joins it, then windows 76..150, ... are compared: the rise at 200 shows in
    # window 226..300, the one at 500 in 452..526 (mean 1.42), the fall at 900 in
    # 903..977, the rise at 1400 in 1354..1428
    assert changes == [300, 526, 977, 1428]
    assert len(trained) == {'adaptive_slope': 1399, 'adaptive_init': 1240,
                            'constant': 1399}[policy]
    assert sorted({round(g[2], 4) for g in got}) == [0.3558, 0.412, 0.4309, 0.4513, 0.5]


def test_budget_and_lr_after_one_rise():
    # 75 frames at 0.8 set the level, the 76th joins the same window, then a window
    # of 75 at 1.5: jump 0.7 (ratio 3.04), a rise, budget int(3.04 * 750) = 2282
    signals = [0.8] * 151 + [1.5] * 75 + [1.5] * 3000
    got = project_frames(signals)
    ref = ReferenceIndicator()
    expected = [ref.frame(s) for s in signals]
    assert ref.iters_train == 2282
    first = 151 + 75  # the frame after the detecting one
    assert [t for t, g in enumerate(got) if g[3]] == [first - 1]
    assert [t for t, g in enumerate(got) if g[0]] == list(range(first, first + 2282))
    # lr: the far-domain interpolation at 1.5 (x 1 + 3 * 0.7 / 1.75 = 2.2), then linear
    # decay to 0 over the budget
    lrs = [g[1] for g in got[first:first + 3]]
    assert lrs == pytest.approx([2.2 * LR * (1 - i / 2282) for i in range(3)], rel=1e-9)
    assert lrs == pytest.approx([e[1] for e in expected[first:first + 3]], rel=1e-9)
    # ClassMix: 0.5 of the source classes before, 1 - interp(1.5) = 0.4 after
    assert got[first - 1][2] == 0.5 and got[first][2] == pytest.approx(0.4)


def test_state_roundtrip_and_errors():
    det, sched = HamletDomainDetector(window=2), HamletSchedule(base_iters=10)
    for v in (1.0, 1.0, 1.0, 1.5, 1.5):
        sched.step()
        d = det.update(v)
        if d['changed']:
            sched.on_change(d)
    assert sched.iters_train == int(0.5 / 0.23 * 10)
    det2, sched2 = HamletDomainDetector(window=2), HamletSchedule(base_iters=10)
    det2.load_state_dict(det.state_dict())
    sched2.load_state_dict(sched.state_dict())
    assert det2.update(1.4) == det.update(1.4)
    assert sched2.lr_scale() == sched.lr_scale() and sched2.training() == sched.training()
    with pytest.raises(ValueError, match='threshold_down < 0 < threshold_up'):
        HamletDomainDetector(threshold_down=0.1)
    with pytest.raises(ValueError, match="unknown HAMLET lr_policy 'poly'"):
        HamletSchedule(lr_policy='poly')
