"""OnlineController: the per-frame decision and what it learns from the step."""
import math

import pytest
import torch

from online_src import Decision, OnlineController


def _frame(entropy):
    return dict(img=None, img_metas=None,
                inference=dict(entropy=torch.tensor([entropy]), pred=None))


def _opt():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def test_budget_restarts_at_a_detected_change_and_boosts_the_lr():
    ctrl = OnlineController(
        budget=dict(frames=2, trigger='detector'),
        detector=dict(enabled=True, type='relative', signal='entropy', window=1,
                      threshold=0.5, min_frames=2),
        schedule=dict(lr_policy='adaptive', lr_gain=1.0, decay_frames=10))
    opt = _opt()
    adapted = []
    for value in (1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0):
        frame = _frame(value)
        decision = ctrl.decide(frame, opt)
        adapted.append(decision.adapt)
        ctrl.observe(frame, decision, dict(policy_loss=1.0))
    # the stream start and the change at the 5th frame each open 2 adapted frames
    assert adapted == [True, True, False, False, True, True, False]
    assert ctrl.detector.changes[0][0] == 5
    assert opt.param_groups[0]['lr'] == pytest.approx(0.1 * (2.0 - 1.0 / 10))
    state = ctrl.state_dict()
    assert state['budget_left'] == 0 and set(state) == {'budget_left', 'schedule',
                                                        'detector'}
    other = OnlineController(
        budget=dict(frames=2, trigger='detector'),
        detector=dict(enabled=True, type='relative', signal='entropy', window=1,
                      threshold=0.5, min_frames=2),
        schedule=dict(lr_policy='adaptive', lr_gain=1.0, decay_frames=10))
    other.load_state_dict(state)  # also the flat `online` state of older checkpoints
    assert other.state_dict() == state


def test_module_policy_learns_from_the_named_loss_or_policy_loss():
    ctrl = OnlineController(module_policy=dict(enabled=True, type='mad', decay=0.5,
                                               loss='mix.decode.loss_ce'))
    decision = ctrl.decide(_frame(1.0), _opt())
    assert decision == Decision(True, module=1, mix_ratio=None, lr_scale=1.0)
    assert decision.step_kwargs == dict(train_from_module=1)
    ctrl.observe(_frame(1.0), decision, dict(log_vars={'mix.decode.loss_ce': 2.0},
                                             policy_loss=7.0))
    assert ctrl.policy.losses == [2.0, 2.0]
    with pytest.raises(KeyError, match="module_policy.loss 'mix.decode.loss_ce' is not "
                                       r"among the logged values of the step: \['x'\]"):
        ctrl.policy_loss(dict(log_vars=dict(x=1.0)))
    own = OnlineController(module_policy=dict(enabled=True, type='mad'))
    assert own.policy_loss(dict(policy_loss=3.0)) == 3.0
    with pytest.raises(KeyError, match='did not return; name a log_vars entry'):
        own.policy_loss(dict(log_vars={}))
    # a step without loss terms (nan) teaches the policy nothing
    decision = own.decide(_frame(1.0), _opt())
    own.observe(_frame(1.0), decision, dict(policy_loss=math.nan))
    assert own.policy.previous_module is None


def test_bad_sections_are_named():
    with pytest.raises(ValueError, match=r"budget.trigger='detector' needs "
                                         r"controller.detector.enabled=True"):
        OnlineController(budget=dict(frames=3))
    with pytest.raises(ValueError, match="schedule type='hamlet' needs"):
        OnlineController(schedule=dict(type='hamlet'))
    with pytest.raises(TypeError, match=r"runner.controller.budget has no key 'frame' "
                                        r"\(did you mean 'frames'\?\)"):
        OnlineController(budget=dict(frame=3))
    # the keys of the detector type chosen ('relative' has no threshold_up)
    with pytest.raises(TypeError, match="controller.detector has no key 'threshold_up'"):
        OnlineController(detector=dict(enabled=True, type='relative', threshold_up=0.2))
    with pytest.raises(TypeError, match=r"controller.module_policy has no key 'alpha' "
                                        r"\(did you mean 'decay'\?\)"):
        OnlineController(module_policy=dict(enabled=True, alpha=0.5))
    with pytest.raises(TypeError, match="needs a method with make_reference"):
        OnlineController(detector=dict(enabled=True)).before_stream(torch.nn.Linear(1, 1))
