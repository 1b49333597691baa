"""The step guard: a non-finite gradient never reaches the weights."""
import pytest
import torch
import torch.nn as nn

from mmseg_ext.core.run_safety import (BufferSnapshot, guard_optimizer_step,
                                       nonfinite_terms)


def _step(model, opt, bad):
    opt.zero_grad()
    loss = model(torch.randn(4, 3))[0].sum() * (float('nan') if bad else 1.0)
    loss.backward()
    opt.step()


def test_guard_skips_only_nonfinite_steps_and_restores_buffers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with guard_optimizer_step(opt, model) as guard:
        _step(model, opt, bad=True)
        guard.restore()
    assert guard.skipped == 1
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert 'step' not in vars(opt)  # the optimizer's own step is back
    with guard_optimizer_step({'a': opt}) as guard:
        _step(model, opt, bad=False)
    assert guard.skipped == 0
    assert not torch.equal(before['0.weight'], model[0].weight)


def test_nonfinite_terms_and_snapshot():
    assert nonfinite_terms({'loss_a': 1.0, 'loss_b': float('inf'), 'acc': torch.tensor(
        float('nan')), 'name': 'x'}) == pytest.approx({'loss_b': float('inf'),
                                                       'acc': float('nan')}, nan_ok=True)
    bn = nn.BatchNorm1d(2)
    snap = BufferSnapshot(bn)
    bn.running_mean.fill_(float('nan'))
    snap.restore()
    assert torch.equal(bn.running_mean, torch.zeros(2))
