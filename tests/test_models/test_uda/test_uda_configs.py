"""The `_base_/uda` files: schemas list every key; unknown keys are refused."""
import glob
import inspect
import os.path as osp

import pytest
import torch
from mmcv import Config

from mmseg_ext.models import UDA, build_train_model
from mmseg_ext.models.builder import accepted_keys, check_uda_cfg

UDA_DIR = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'uda')
SCHEMAS = {'DACS': 'dacs.py', 'TENT': 'tent.py', 'CoTTA': 'cotta.py',
           'SourceOnly': 'source_only.py'}


@pytest.mark.parametrize('method, filename', sorted(SCHEMAS.items()))
def test_schema_lists_every_key_with_the_constructor_default(method, filename):
    uda = Config.fromfile(osp.join(UDA_DIR, filename)).uda
    keys = accepted_keys(UDA.get(method)) - {'model', 'init_cfg'}
    assert set(uda) - {'type'} == keys
    defaults = {}
    for klass in reversed(UDA.get(method).__mro__):
        if '__init__' in vars(klass):
            for p in inspect.signature(vars(klass)['__init__']).parameters.values():
                if p.default is not p.empty:
                    defaults[p.name] = p.default
    for key in keys:
        default = defaults[key]
        value = uda[key]
        if key == 'norm_stats':  # None in the signature: the class's NORM_STATS
            default = UDA.get(method).NORM_STATS
        if isinstance(default, tuple):
            default = list(default)
        assert value == default, key


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(UDA_DIR, '*.py'))))
def test_every_uda_file_builds(path, model_cfg):
    cfg = Config.fromfile(path)
    check_uda_cfg(dict(cfg.uda))
    if cfg.uda.get('ewc_fisher_file'):
        return  # builds the same; the file is only read before the stream
    torch.manual_seed(0)
    model = build_train_model(Config(dict(model=model_cfg(), uda=cfg.uda)))
    assert type(model).__name__ == cfg.uda.type


def test_unknown_key_and_type_are_named(model_cfg):
    with pytest.raises(KeyError, match="DACS has no key 'pseudo_treshold' "
                                       r"\(did you mean 'pseudo_threshold'\?\)"):
        build_train_model(Config(dict(model=model_cfg(),
                                      uda=dict(type='DACS', pseudo_treshold=0.9))))
    with pytest.raises(KeyError, match="TENT has no key 'alpha'"):
        build_train_model(Config(dict(model=model_cfg(),
                                      uda=dict(type='TENT', alpha=0.99))))
    with pytest.raises(KeyError, match="uda type 'Dacs' is not registered"):
        build_train_model(Config(dict(model=model_cfg(), uda=dict(type='Dacs'))))


def test_no_uda_builds_the_plain_segmentor(model_cfg):
    model = build_train_model(Config(dict(model=model_cfg())))
    assert type(model).__name__ == 'CustomEncoderDecoder'


@pytest.mark.parametrize('old, new', [
    (dict(type='DACS', norm_eval=True), dict(student='running')),
    (dict(type='DACS', target_norm_stats=True, source_norm_stats=False),
     dict(target_pass=True, source_pass=False)),
    (dict(type='DACS', teacher_norm='student_running'), dict(teacher='student_running')),
    (dict(type='TENT', predict_batch_stats=False, use_batch_stats=False),
     dict(predict='running', student='running')),
    (dict(type='CoTTA', student_train_mode=True, teacher_copy_norm_stats=True),
     dict(student='batch', teacher='student_running')),
    (dict(type='CoTTA', student_train_mode=False, norm_eval=False), dict()),
])
def test_deprecated_keys_are_read_as_norm_stats(model_cfg, old, new):
    uda = dict(old, aug_scales=[1.0]) if old['type'] == 'CoTTA' else old
    with pytest.warns(FutureWarning, match='deprecated: they are read as uda.norm_stats'):
        model = build_train_model(Config(dict(model=model_cfg(), uda=uda)))
    assert model.norm_stats == dict(type(model).NORM_STATS, **new)


def test_contradicting_norm_stats_keys_are_named(model_cfg):
    with pytest.raises(ValueError, match="uda.student_train_mode=True means "
                                         "norm_stats.student='batch', but "
                                         "uda.norm_eval sets 'running'"):
        build_train_model(Config(dict(model=model_cfg(), uda=dict(
            type='CoTTA', norm_eval=True, student_train_mode=True))))
    with pytest.raises(ValueError, match=r"DACS: norm_stats.teacher must be one of "
                                         r"\['batch', 'student_running'\], got 'source'"):
        build_train_model(Config(dict(model=model_cfg(), uda=dict(
            type='DACS', norm_stats=dict(teacher='source')))))
    with pytest.raises(ValueError, match=r"norm_stats has no field \['techer'\]"):
        build_train_model(Config(dict(model=model_cfg(), uda=dict(
            type='DACS', norm_stats=dict(techer='batch')))))
