"""The one resolver of trainable parameters (``mmseg_ext.models.utils.trainable``).

``trainable_sets.json`` holds, per method config, the parameters with
``requires_grad``, the parameters the optimizer holds and the modules in eval mode
(or eval-locked) after ``model.train()``, as recorded on the code before the
resolver existed (a count, a hash of the sorted names and the count per
three-part name prefix). Each case is also checked against an independent
reimplementation of the rules (:func:`expected_trainable`).
"""
import glob
import hashlib
import json
import re
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmcv import Config
from mmcv.runner import build_optimizer

from mmseg_ext.apis import freeze_encoder
from mmseg_ext.models import build_train_model
from mmseg_ext.models.utils import TRAINABLE_MODES, set_trainable

ROOT = osp.join(osp.dirname(__file__), '..', '..', '..')
RECORDED = osp.join(osp.dirname(__file__), 'trainable_sets.json')
M, U, S = 'configs/_base_/models/', 'configs/_base_/uda/', 'configs/_base_/schedules/'


def _cfg(path):
    return Config.fromfile(osp.join(ROOT, path))


def _combo(model, uda, schedule, **options):
    cfg = Config(dict(model=_cfg(model).model, optimizer=_cfg(schedule).optimizer,
                      uda=_cfg(uda).uda))
    cfg.merge_from_dict(options)
    return cfg


_UDA_KEYS = {'model.backbone.freeze_backbone': False, 'model.backbone.trainable_keys': [],
             'uda.freeze_backbone': True, 'uda.trainable_keys': ['adapter']}


def _cases():
    """name -> config builder: every configs/online method config, every _base_/uda
    file on SegFormer MiT-B0 with AdamW, and the adapter, stage and encoder keys."""
    cases = {osp.basename(p): (lambda p=p: _cfg(p)) for p in
             sorted(glob.glob(osp.join(ROOT, 'configs/online/proccity_*.py')))}
    for path in sorted(glob.glob(osp.join(ROOT, U, '*.py'))):
        cases['uda/' + osp.basename(path)] = (
            lambda p=path: _combo(M + 'segformer_mit-b0.py', p, S + 'adamw.py'))
    extra = {
        'peft/adapter-half+dacs': ('mit-b1_adapter-half', 'dacs', 'adamw_peft', {}),
        'peft/adapter-half+tent': ('mit-b1_adapter-half', 'tent', 'adamw_peft', {}),
        'peft/frozen-late-adapter+cotta': ('mit-b1_frozen-late-adapter', 'cotta',
                                           'adam_cotta', {}),
        'peft/vitadapter+dacs': ('mit-b1_vitadapter', 'dacs', 'adamw_peft', {}),
        'peft/evp+tent': ('mit-b1_evp', 'tent', 'adamw_peft', {}),
        'peft/cvp+source_only': ('mit-b1_cvp', 'source_only', 'adamw_peft', {}),
        'peft/vida+dacs_pretrained_teacher': (
            'mit-b1_vida', 'dacs', 'adamw_peft',
            {'uda.teacher_mode': 'pretrained', 'uda.reference_mode': 'pretrained'}),
        'peft/swin-t_adapter-half+tent': ('swin-t_adapter-half', 'tent',
                                          'adamw_peft', {}),
        'uda_keys/adapter-full+dacs': ('mit-b1_adapter-full', 'dacs', 'adamw_peft',
                                       _UDA_KEYS),
        'uda_keys/adapter-full+tent': ('mit-b1_adapter-full', 'tent', 'adamw',
                                       _UDA_KEYS),
        'stages/mit-b0_frozen12+dacs': ('mit-b0', 'dacs', 'adamw',
                                        {'model.backbone.frozen_modules': [1, 2]}),
        'stages/mit-b0_frozen12+tent_peft': ('mit-b0', 'tent', 'adamw_peft',
                                             {'model.backbone.frozen_modules': [1, 2]}),
    }
    for name, (model, uda, schedule, options) in extra.items():
        cases[name] = (lambda m=model, u=uda, s=schedule, o=options: _combo(
            f'{M}segformer_{m}.py', f'{U}{u}.py', f'{S}{s}.py', **o))

    def source_frozen_encoder():
        cfg = _cfg('configs/online/proccity_source_mit-b0.py')
        cfg.freeze_encoder = True
        return cfg

    cases['encoder/source_freeze_encoder'] = source_frozen_encoder
    return cases


CASES = _cases()


def _fingerprint(names):
    names = sorted(names)
    prefixes = {}
    for name in names:
        prefix = '.'.join(name.split('.')[:3])
        prefixes[prefix] = prefixes.get(prefix, 0) + 1
    return dict(count=len(names), prefixes=prefixes,
                sha1=hashlib.sha1('\n'.join(names).encode()).hexdigest()[:16])


def _build(cfg):
    torch.manual_seed(0)
    model = build_train_model(cfg)
    if cfg.get('freeze_encoder', False):
        freeze_encoder(model)
    optimizer = build_optimizer(model, cfg.optimizer)
    return model, [n for group in optimizer.param_groups for n in group['names']]


def expected_trainable(cfg, model):
    """The trainable parameter names by the rules, written out apart from the code:
    the student trains everything, minus the backbone's frozen stages, minus the
    backbone outside ``trainable_keys`` with ``freeze_backbone`` (backbone or uda
    keys), minus the whole backbone with ``freeze_encoder``; TENT keeps only the
    norm-layer affine parameters of that; copies (teachers, anchors, references)
    train nothing."""
    student = getattr(model, 'model', model)
    prefix = 'model.' if student is not model else ''
    backbone = cfg.model.backbone
    uda = cfg.get('uda') or {}
    norm_ids = {id(p) for m in student.modules()
                if isinstance(m, (nn.LayerNorm, nn.modules.batchnorm._BatchNorm,
                                  nn.GroupNorm))
                for p in m.parameters(recurse=False)}
    out = set()
    for name, param in student.named_parameters():
        if name.startswith('backbone.'):
            inner = name[len('backbone.'):]
            stage = inner.split('.')[1] if inner.split('.')[0] in (
                'patch_embeds', 'blocks', 'norms') else None
            if stage is not None and int(stage) + 1 in backbone.get('frozen_modules', []):
                continue
            if backbone.get('freeze_backbone') and not any(
                    k in inner for k in backbone.trainable_keys):
                continue
            if uda.get('freeze_backbone') and not any(
                    k in inner for k in uda.trainable_keys):
                continue
            if cfg.get('freeze_encoder', False):
                continue
        if uda.get('type') == 'TENT' and id(param) not in norm_ids:
            continue
        out.add(prefix + name)
    return out


@pytest.mark.parametrize('case', sorted(CASES))
def test_trainable_and_optimizer_sets_are_the_recorded_ones(case):
    with open(RECORDED) as f:
        recorded = json.load(f)[case]
    cfg = CASES[case]()
    model, optimizer_names = _build(cfg)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == expected_trainable(cfg, model)
    skip_frozen = cfg.optimizer.get('paramwise_cfg', {}).get('skip_frozen', False)
    all_names = [n for n, _ in model.named_parameters()]  # each parameter once
    assert sorted(optimizer_names) == sorted(trainable if skip_frozen else all_names)
    model.train()
    evals = [n for n, m in model.named_modules() if not m.training]
    locked = ['locked:' + n for n, m in model.named_modules()
              if getattr(m, 'frozen_eval', False)]
    assert _fingerprint(trainable) == recorded['trainable']
    assert _fingerprint(optimizer_names) == recorded['optimizer']
    assert _fingerprint(evals + locked) == recorded['eval_after_train']


def test_every_recorded_case_is_run():
    with open(RECORDED) as f:
        assert sorted(json.load(f)) == sorted(CASES)


def _tiny(**uda):
    """SegFormer MiT-B0's config at 8-16 channels, one block per stage."""
    model = _cfg(M + 'segformer_mit-b0.py').model
    model.backbone.update(embed_dims=[8, 8, 16, 16], num_heads=[1, 1, 2, 2],
                          depths=[1, 1, 1, 1])
    model.decode_head.update(in_channels=[8, 8, 16, 16], channels=16)
    cfg = dict(model=model, uda=uda) if uda else dict(model=model)
    return build_train_model(Config(cfg))


def test_modes_set_the_relation_they_name():
    model = _tiny()
    total = len(list(model.parameters()))
    assert set_trainable(model, 'none') == []
    assert all(getattr(m, 'frozen_eval', False) for m in model.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm))
    assert len(set_trainable(model, 'all')) == total
    norms = set_trainable(model, 'norm_affine')
    assert norms and all(n.endswith(('weight', 'bias')) for n in norms)
    assert len(norms) == sum(len(list(m.parameters(recurse=False)))
                             for m in model.modules() if isinstance(
                                 m, (nn.LayerNorm, nn.modules.batchnorm._BatchNorm)))
    set_trainable(model, 'all')
    left = set_trainable(model, 'stages', stages=[1, 3], scope='backbone')
    assert {n.split('.')[1] for n in left if n.split('.')[0] == 'blocks'} == {'1', '3'}
    assert model.backbone.frozen_modules == (1, 3)
    set_trainable(model, 'stages', stages=[1], requires_grad=True, scope='backbone')
    assert model.backbone.frozen_modules == (3,)
    assert set_trainable(model, 'encoder', scope='backbone') == []
    assert model.backbone.frozen_modules == (1, 2, 3, 4)
    assert set_trainable(model, 'keys', keys=['head.conv_seg']) == [
        'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias']
    assert TRAINABLE_MODES == ('all', 'keys', 'norm_affine', 'stages', 'encoder', 'none')


@pytest.mark.parametrize('call, match', [
    (lambda m: set_trainable(m, 'frozen'),
     r"trainable mode: 'frozen' is not a mode; expected one of \['all', 'keys', "
     r"'norm_affine', 'stages', 'encoder', 'none'\]"),
    (lambda m: set_trainable(m, 'encoder', scope='encoder', key='freeze_encoder'),
     r"freeze_encoder: CustomEncoderDecoder has no module 'encoder' to apply it to; "
     r"it has \['backbone', 'decode_head'\]"),
    (lambda m: set_trainable(m, 'stages', stages=[5], scope='backbone',
                             key='frozen_modules'),
     r'MixTransformer: frozen_modules \(5,\) must be module numbers in 1..4'),
    (lambda m: set_trainable(m, 'stages', stages=[1], scope='decode_head',
                             key='frozen_modules'),
     'frozen_modules: SegformerHead has no stages to freeze'),
    (lambda m: set_trainable(m, 'keys', keys=['adaptr'], scope='backbone',
                             key='uda.trainable_keys'),
     "trainable key 'adaptr' matches no parameter of MixTransformer .*check "
     "uda.trainable_keys in the config"),
    (lambda m: set_trainable(m, 'none', keys=['adapter'], key='uda.trainable_keys'),
     r"uda.trainable_keys: keys=\['adapter'\] only apply to mode 'keys', not 'none'"),
    (lambda m: set_trainable(m.decode_head.conv_seg, 'norm_affine', key='TENT'),
     'TENT: Conv2d has no LayerNorm/BatchNorm/GroupNorm affine parameter to adapt'),
    (lambda m: (set_trainable(m, 'keys', keys=['conv_seg']),
                set_trainable(m, 'norm_affine', key='TENT')),
     r'TENT: freezing left no norm parameter trainable \(check freeze_backbone/'),
])
def test_bad_mode_scope_stage_or_key_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(_tiny())


def test_uda_keys_are_checked_at_build():
    with pytest.raises(ValueError, match="trainable key 'adaptr' matches no parameter "
                                         ".*check uda.trainable_keys in the config"):
        _tiny(type='DACS', freeze_backbone=True, trainable_keys=['adaptr'])
    with pytest.raises(ValueError, match=r"DACS: trainable_keys \['blocks'\] only apply "
                                         "with freeze_backbone=True"):
        _tiny(type='DACS', trainable_keys=['blocks'])


def test_requires_grad_is_set_in_the_resolver_only():
    """No other module of the packages sets ``requires_grad`` on parameters
    (``run_safety`` makes a zero loss tensor that needs a gradient)."""
    pattern = re.compile(r'\.requires_grad_\(|\.requires_grad\s*=(?!=)')
    setters = set()
    for package in ('mmseg_ext', 'online_src'):
        for path in glob.glob(osp.join(ROOT, package, '**', '*.py'), recursive=True):
            with open(path) as f:
                if pattern.search(f.read()):
                    setters.add(osp.relpath(path, ROOT))
    assert setters == {'mmseg_ext/models/utils/trainable.py',
                       'mmseg_ext/core/run_safety.py'}
