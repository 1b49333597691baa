"""The controller's registries: a part of one's own, registered from outside the
package, runs through the runner's config; unknown types and incomplete parts
are named."""
import json

import numpy as np
import pytest

from online_src import (DETECTORS, MODULE_POLICIES, SCHEDULES, OnlineController,
                        build_part)
from online_src.apis.online import train_online


@DETECTORS.register_module()
class EveryNthFrameDetector:
    """Declares a change on every ``period``-th frame (a stand-in for a detector
    of one's own, fed the deployed model's entropy before the step)."""

    signal = 'entropy'
    reference_module = None

    def __init__(self, period=3):
        self.period = period
        self.frames = 0
        self.values = []
        self.changes = []  # (frame, before, after): summary.json's detected_changes

    def update(self, value):
        self.frames += 1
        self.values.append(value)
        changed = self.frames % self.period == 0
        if changed:
            self.changes.append((self.frames, 0.0, float(value)))
        return dict(changed=changed, direction=int(changed), jump=0.0,
                    relative_jump=1.0 if changed else 0.0)

    def state_dict(self):
        return dict(frames=self.frames)

    def load_state_dict(self, state):
        self.frames = state['frames']


def test_registered_detector_runs_through_the_runner_config(tiny, tmp_path):
    controller = dict(budget=dict(frames=1, trigger='detector'),
                      detector=dict(enabled=True, type='EveryNthFrameDetector', period=5))
    cfg = tiny['cfg'](tmp_path / 'run', controller=controller)
    runner = train_online(cfg)
    detector = runner.controller.detector
    assert type(detector) is EveryNthFrameDetector and detector.period == 5
    assert len(detector.values) == 12 and all(np.isfinite(detector.values))
    adapted = np.load(tmp_path / 'run' / 'fps.npy')[:, 1]
    # the stream start and the changes at frames 5 and 10 each open one adapted frame
    assert np.flatnonzero(adapted).tolist() == [0, 4, 9]
    with open(tmp_path / 'run' / 'summary.json') as f:
        assert [c[0] for c in json.load(f)['detected_changes']] == [5, 10]
    # a key the registered class does not take is named like a built-in's
    with pytest.raises(TypeError, match=r"runner.controller.detector has no key 'perod' "
                                        r"\(did you mean 'period'\?\)"):
        OnlineController(detector=dict(enabled=True, type='EveryNthFrameDetector',
                                       perod=2))


@pytest.mark.parametrize('section,registry,exported,names', [
    ('detector', DETECTORS, 'DETECTORS', "'EveryNthFrameDetector', 'hamlet', 'relative'"),
    ('schedule', SCHEDULES, 'SCHEDULES', "'boost', 'hamlet'"),
    ('module_policy', MODULE_POLICIES, 'MODULE_POLICIES',
     "'fixed', 'mad', 'mad_sampled', 'random'")])
def test_unknown_type_names_the_key_the_value_and_the_registered_names(
        section, registry, exported, names):
    with pytest.raises(ValueError) as error:
        OnlineController(**{section: dict(type='Nope')})
    assert str(error.value) == (
        f"runner.controller.{section}.type='Nope' is not a registered {registry.name}; "
        f"registered: [{names}] (add one with @online_src.{exported}.register_module())")


def test_part_lacking_a_method_the_controller_calls_is_refused():
    class NoApply:
        def training(self):
            return True

    with pytest.raises(TypeError, match=r"runner.controller.schedule.type NoApply lacks "
                                        r"\['on_change', 'current_mix_ratio', 'apply'"):
        build_part(SCHEDULES, 'schedule', dict(type=NoApply), 'boost')

    class LossDetector(EveryNthFrameDetector):
        signal = 'loss'

    with pytest.raises(ValueError, match=r"has signal 'loss'; the controller feeds one of "
                                         r"\('entropy', 'reference_loss'\)"):
        OnlineController(detector=dict(enabled=True, type=LossDetector))
