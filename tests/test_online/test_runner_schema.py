"""`configs/_base_/online/online_runner.py` is the runner's schema: every key is a
constructor argument of `OnlineRunner` with the same default, and every argument
the config can set is a key (as `tests/test_models/test_uda/test_uda_configs.py`
ties the `uda` schemas to the methods)."""
import inspect
import os.path as osp

import pytest
from mmcv import Config

from online_src import (DETECTORS, SCHEDULES, Budget, OnlineController, OnlineRunner,
                        SourceSubset, build_module_policy, resolve_controller_cfg)

# passed by the code that builds the runner, or given by the stream
NOT_CONFIG = {'self', 'model', 'batch_processor', 'optimizer', 'work_dir', 'logger', 'meta',
              'max_iters', 'max_epochs'}


def _plain(value):
    """Config values as the constructor defaults spell them (tuples as lists)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _arguments(func):
    return {p.name: p.default for p in inspect.signature(func).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _schema(repo_root):
    return Config.fromfile(osp.join(repo_root, 'configs/_base_/online/online_runner.py')
                           ).runner.to_dict()


def test_runner_schema_is_the_constructor_signature(repo_root):
    runner = _schema(repo_root)
    assert runner.pop('type') == 'OnlineRunner'
    defaults = _arguments(OnlineRunner.__init__)
    assert set(runner) == set(defaults) - NOT_CONFIG
    for key, value in runner.items():
        if not isinstance(value, dict):  # sections: the keys of the parts they build
            assert _plain(value) == _plain(defaults[key]), key


def test_source_buffer_keys_are_the_subset_arguments(repo_root):
    buffer = _schema(repo_root)['source_buffer']
    defaults = _arguments(SourceSubset.__init__)
    assert set(buffer) == set(defaults) - {'self', 'dataset', 'seed'}
    # size None (no buffer) is the schema's switch; HAMLET's 1000 is hamlet.py's
    assert buffer == {k: (None if k == 'size' else defaults[k]) for k in buffer}


def test_controller_sections_are_the_parts_signatures(repo_root):
    controller = _schema(repo_root)['controller']
    assert sorted(controller) == ['budget', 'detector', 'module_policy', 'schedule']
    detector = dict(controller['detector'])
    assert detector.pop('enabled') is False
    schedule = dict(controller['schedule'])
    sections = dict(budget=(controller['budget'], Budget),
                    detector=(detector, DETECTORS[detector['type']]),
                    schedule=(schedule, SCHEDULES[schedule.pop('type')]),
                    module_policy=(controller['module_policy'], build_module_policy))
    for name, (section, builder) in sections.items():
        defaults = _arguments(builder)
        defaults.pop('self', None)
        defaults.pop('seed', None)  # the runner's
        keys = set(section) - {'type'} if name == 'detector' else set(section)
        assert keys == set(defaults), name
        for key in keys:
            assert _plain(section[key]) == _plain(defaults[key]), f'{name}.{key}'
    assert set(_arguments(OnlineController.__init__)) == {'self', 'seed'} | set(sections)


def test_old_flat_keys_map_onto_the_controller_with_a_warning():
    old = dict(budget=2, budget_trigger='domain', alpha=0.9, mad_loss='mix.decode.loss_ce',
               modular_training=True, training_policy='mad_sampled',
               domain_detector=dict(_delete_=True, enabled=True, type='relative'))
    schema = dict(detector=dict(enabled=False, type='hamlet', threshold_up=0.23),
                  module_policy=dict(decay=0.1, temperature=1.75))
    with pytest.warns(FutureWarning) as record:
        resolved = resolve_controller_cfg(schema, old)
    assert len(record) == len(old)
    assert 'runner.alpha is deprecated: use runner.controller.module_policy.decay' in [
        str(w.message) for w in record]
    assert resolved == dict(
        budget=dict(frames=2, trigger='domain'),
        detector=dict(enabled=True, type='relative'),
        module_policy=dict(decay=0.9, temperature=1.75, loss='mix.decode.loss_ce',
                           enabled=True, type='mad_sampled'))
    assert schema['module_policy']['decay'] == 0.1  # the section itself is not changed
    # a partial old section updates the new one (as mmcv's merge did)
    with pytest.warns(FutureWarning):
        assert resolve_controller_cfg(schema, dict(domain_detector=dict(window=5)))[
            'detector'] == dict(enabled=False, type='hamlet', threshold_up=0.23, window=5)
    with pytest.raises(TypeError, match=r"OnlineRunner has no key \['budgett'\]"):
        resolve_controller_cfg(schema, dict(budgett=2))
