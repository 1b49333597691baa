"""`configs/_base_/online/online_runner.py` is the runner's schema: every key is a
constructor argument of `OnlineRunner` with the same default, and every argument
the config can set is a key (as `tests/test_models/test_uda/test_uda_configs.py`
ties the `uda` schemas to the methods)."""
import inspect
import os.path as osp

import pytest
from mmcv import Config

from online_src import (DETECTORS, MODULE_POLICIES, POLICY_ARGUMENTS, SCHEDULES, Budget,
                        OnlineController, OnlineRunner, SourceSubset, build_module_policy,
                        resolve_controller_cfg)

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


def _schema(repo_root, name='online_runner.py'):
    return Config.fromfile(osp.join(repo_root, 'configs/_base_/online', name)
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
                    detector=(detector, DETECTORS.get(detector['type'])),
                    schedule=(schedule, SCHEDULES.get(schedule.pop('type'))),
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


def _takes(cls, name):
    """bool: ``cls(name=...)`` is accepted (an argument, or ``**kwargs``)."""
    params = inspect.signature(cls.__init__).parameters.values()
    return any(p.name == name for p in params) or any(p.kind == p.VAR_KEYWORD
                                                      for p in params)


def test_registries_hold_the_config_types_and_variants_match_their_parts(repo_root):
    """The ``type`` values of the ``_base_`` files are the registered names, and
    each variant's section keys are the arguments of the part it selects."""
    # the built-ins (tests register parts of their own beside them)
    for registry, builtin in (
            (DETECTORS, dict(hamlet='HamletDomainDetector', relative='DomainDetector')),
            (SCHEDULES, dict(hamlet='HamletSchedule', boost='AdaptiveSchedule')),
            (MODULE_POLICIES, dict(fixed='FixedPolicy', random='RandomPolicy',
                                   mad='MADPolicy', mad_sampled='SampledMADPolicy'))):
        assert {k: registry.get(k).__name__ for k in builtin} == builtin
    # HAMLET's schedule section (hamlet.py) spells out every argument with its default
    schedule = dict(_schema(repo_root, 'hamlet.py')['controller']['schedule'])
    defaults = _arguments(SCHEDULES.get(schedule.pop('type')).__init__)
    defaults.pop('self')
    assert set(schedule) == set(defaults)
    for key, value in schedule.items():
        assert value == pytest.approx(_plain(defaults[key])), key
    # the project's detector section (hamlet_budget.py) sets only its own keys
    detector = dict(_schema(repo_root, 'hamlet_budget.py')['controller']['detector'])
    assert detector.pop('enabled') is True
    assert set(detector) - {'type'} <= set(_arguments(DETECTORS.get(detector['type']).__init__))
    # every module policy is built from the same arguments (module_policy section)
    seen = {}
    original = MODULE_POLICIES.get('fixed')

    class Spy(original):
        def __init__(self, **kwargs):
            seen.update(kwargs)
            super().__init__(**kwargs)

    build_module_policy(enabled=True, type=Spy)
    assert set(seen) == set(POLICY_ARGUMENTS)
    for name, cls in MODULE_POLICIES.module_dict.items():
        assert all(_takes(cls, a) for a in POLICY_ARGUMENTS), name


@pytest.mark.parametrize('name', ['online_runner.py', 'hamlet.py', 'hamlet_budget.py',
                                  'hamlet_budget_mad.py', 'mad.py'])
def test_every_online_base_builds_its_controller(repo_root, name):
    controller = OnlineController(**resolve_controller_cfg(_schema(repo_root, name)[
        'controller']))
    detector = _schema(repo_root, name)['controller']['detector']
    assert (controller.detector is not None) == detector['enabled']
    if controller.detector is not None:
        assert isinstance(controller.detector, DETECTORS.get(detector['type']))
