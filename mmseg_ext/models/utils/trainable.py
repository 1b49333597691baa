"""One resolver of which parameters train: :func:`set_trainable`.

Every place that decides ``requires_grad`` calls :func:`set_trainable` with one of
:data:`TRAINABLE_MODES`; each mode is one relation, set by one config key:

- ``'all'``: every parameter trains (DAFormer's and HAMLET's student, source
  training, CoTTA's student: qinenergy/cotta's ``configure_model`` leaves the
  whole SegFormer trainable), and the eval-mode locks are released. The default:
  no key sets it.
- ``'keys'``: parameter-efficient adaptation (AdaptFormer, ViT-Adapter's
  injectors and spatial prior, ViDA, visual prompts): every parameter is frozen
  except those whose name contains one of ``keys`` (substrings, as the
  ``custom_keys`` of mmcv's optimizer constructor: ``'adapter'`` matches
  ``backbone.blocks.3.1.adapter.down.weight``); the frozen mode-dependent layers
  (dropout, drop-path, BatchNorm, and any module with only frozen parameters) stay
  in eval mode even after ``model.train()`` (a frozen layer computes the pretrained
  function, not a noisy or statistics-updating variant of it). Keys:
  ``model.backbone.freeze_backbone`` / ``trainable_keys`` (adapter backbones) and
  ``uda.freeze_backbone`` / ``trainable_keys`` (the student's backbone), both
  through :func:`apply_freeze_backbone`.
- ``'norm_affine'``: TENT (Wang et al., ICLR 2021; DequanWang/tent
  ``configure_model`` + ``collect_params``): of the parameters trainable now, only
  the weight and bias of the normalisation layers keep training (TENT's code
  takes BatchNorm's; a transformer normalises with LayerNorm, so BatchNorm,
  LayerNorm and GroupNorm here). Key: ``uda.type='TENT'``.
- ``'stages'``: HAMLET's modules (Colomer et al., ICCV 2023): the parameters of
  whole encoder stages (1-based ``stages``) stop training (``requires_grad=True``
  releases them) and those stages stay in eval mode (the backbone's ``train``
  reads its ``frozen_modules``). Key: ``model.backbone.frozen_modules``.
- ``'encoder'``: decoder-only fine-tuning: the whole encoder is frozen (a staged
  encoder through ``'stages'`` with every stage, so it also stays in eval mode).
  Key: ``freeze_encoder`` (``_base_/schedules/source_40k.py``).
- ``'none'``: a frozen copy: nothing trains and every mode-dependent layer stays in
  eval mode (the EMA teacher, CoTTA's anchor, DACS's reference model, HAMLET's
  domain-detector reference). Keys: ``uda.teacher_mode`` / ``uda.reference_mode``
  choose what is copied (:func:`~.freeze.make_reference_model`).

What the optimizer holds is read from the result, not decided apart:
``optimizer.paramwise_cfg.skip_frozen`` of
:class:`~mmseg_ext.core.ParamWiseOptimizerConstructor`
(``_base_/schedules/adamw.py``): False puts every parameter of the method in it
once (those that get no gradient, frozen ones and teachers, are skipped by torch's
optimizers at every step), True only those left trainable here
(``_base_/schedules/adamw_peft.py``).
"""
import torch.nn as nn
from mmcv.cnn.bricks.drop import DropPath as MMCVDropPath
from timm.layers import DropPath as TimmDropPath

__all__ = ['TRAINABLE_MODES', 'NORM_LAYERS', 'set_trainable', 'apply_freeze_backbone',
           'check_stages', 'freeze', 'unfreeze', 'trainable_parameters']

TRAINABLE_MODES = ('all', 'keys', 'norm_affine', 'stages', 'encoder', 'none')

#: Normalisation layers whose affine parameters TENT adapts.
NORM_LAYERS = (nn.LayerNorm, nn.modules.batchnorm._BatchNorm, nn.GroupNorm)


def set_trainable(module, mode, keys=(), stages=(), requires_grad=False, scope=None,
                  key=None):
    """Sets which parameters of ``module`` (or of its child ``scope``) train.

    Args:
        module (nn.Module): the network (segmentor, backbone, a copy).
        mode (str): one of :data:`TRAINABLE_MODES` (the relations are listed in the
            module docstring).
        keys (Sequence[str]): ``'keys'``: substrings of the names (relative to the
            target) of the parameters left trainable. Default: ().
        stages (Sequence[int]): ``'stages'``: 1-based stages of a staged encoder
            (one with ``num_stages``, ``module_parts(k)`` and ``frozen_modules``).
            Default: ().
        requires_grad (bool): ``'stages'``: True trains the stages again, False
            freezes them. Default: False.
        scope (str | None): the child of ``module`` the rule applies to
            (``'backbone'``); None: ``module`` itself. Default: None.
        key (str | None): the config key the rule comes from, named in errors.
            Default: None (the mode).

    Returns:
        list[str]: names (relative to the target) of its parameters trainable after.

    Raises:
        ValueError: an unknown mode or scope, ``keys`` / ``stages`` with another
            mode; ``'keys'``: a key that matches no
            parameter; ``'stages'``: a stage out of range, or a target without
            stages; ``'norm_affine'``: no norm parameter (left) to train.
        TypeError: ``keys`` is not a sequence of non-empty strings.
    """
    what = key or f'trainable mode {mode!r}'
    if mode not in TRAINABLE_MODES:
        raise ValueError(f'{key or "trainable mode"}: {mode!r} is not a mode; '
                         f'expected one of {list(TRAINABLE_MODES)}')
    for name, value, used_by in (('keys', keys, 'keys'), ('stages', stages, 'stages')):
        if len(value) and mode != used_by:
            raise ValueError(f"{what}: {name}={list(value)} only apply to mode "
                             f"{used_by!r}, not {mode!r}")
    target = module
    if scope is not None:
        target = getattr(module, scope, None)
        if not isinstance(target, nn.Module):
            raise ValueError(f'{what}: {type(module).__name__} has no module {scope!r} '
                             f'to apply it to; it has '
                             f'{[n for n, _ in module.named_children()]}')
    if mode == 'all':
        unfreeze(target)
    elif mode == 'keys':
        freeze(target, keys, key=key or 'trainable_keys')
    elif mode == 'none':
        freeze(target, ())
    elif mode == 'norm_affine':
        _norm_affine_only(target, what)
    elif mode == 'stages':
        _set_stages(target, stages, requires_grad, key or 'stages')
    else:  # 'encoder'
        if _is_staged(target):
            _set_stages(target, range(1, target.num_stages + 1), False, what)
        target.requires_grad_(False)
    return [name for name, _ in trainable_parameters(target)]


def apply_freeze_backbone(module, freeze_backbone, trainable_keys, owner, key,
                          scope=None):
    """The config pair ``freeze_backbone`` / ``trainable_keys``: ``'keys'`` mode
    on ``module`` (or its child ``scope``) when ``freeze_backbone``.

    Args:
        module (nn.Module): the backbone, or the segmentor with ``scope='backbone'``.
        freeze_backbone (bool): apply it.
        trainable_keys (Sequence[str]): the ``keys``.
        owner (str): the class whose keys they are, named in errors.
        key (str): the config key of ``trainable_keys`` (``'uda.trainable_keys'``),
            named in errors.
        scope (str | None): see :func:`set_trainable`. Default: None.

    Returns:
        tuple[str]: the keys.

    Raises:
        ValueError: keys given without ``freeze_backbone`` (they would do nothing).
    """
    keys = tuple(trainable_keys)
    if keys and not freeze_backbone:
        raise ValueError(f'{owner}: trainable_keys {list(keys)} only apply with '
                         f'freeze_backbone=True')
    if freeze_backbone:
        set_trainable(module, 'keys', keys=keys, scope=scope, key=key)
    return keys


def _norm_affine_only(module, what):
    norm_params = set()
    for sub in module.modules():
        if isinstance(sub, NORM_LAYERS):
            norm_params.update(id(p) for p in sub.parameters(recurse=False))
    if not norm_params:
        raise ValueError(f'{what}: {type(module).__name__} has no '
                         f'LayerNorm/BatchNorm/GroupNorm affine parameter to adapt')
    for param in module.parameters():
        param.requires_grad_(param.requires_grad and id(param) in norm_params)
    if not any(p.requires_grad for p in module.parameters()):
        raise ValueError(f'{what}: freezing left no norm parameter trainable '
                         f'(check freeze_backbone/trainable_keys)')


def _is_staged(module):
    return all(hasattr(module, a) for a in ('num_stages', 'module_parts',
                                            'frozen_modules'))


def check_stages(module, stages, key):
    """Raises unless ``stages`` are 1-based stage numbers of ``module``."""
    if not all(isinstance(m, int) and 1 <= m <= module.num_stages for m in stages):
        raise ValueError(f'{type(module).__name__}: {key} {tuple(stages)} must be '
                         f'module numbers in 1..{module.num_stages}')


def _set_stages(module, stages, requires_grad, key):
    if not _is_staged(module):
        raise ValueError(f'{key}: {type(module).__name__} has no stages to freeze '
                         f'(it needs num_stages, module_parts and frozen_modules, '
                         f'as MixTransformer)')
    stages = tuple(stages)
    check_stages(module, stages, key)
    for m in stages:
        for part in module.module_parts(m):
            part.requires_grad_(requires_grad)
    frozen = set(module.frozen_modules)
    frozen = frozen - set(stages) if requires_grad else frozen | set(stages)
    module.frozen_modules = tuple(sorted(frozen))
    module.train(module.training)


# Layers whose train mode changes the function they compute.
_MODE_DEPENDENT = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm,
                   MMCVDropPath, TimmDropPath)


def _keep_eval(module, args):
    """Forward pre-hook: a frozen mode-dependent layer always runs in eval mode."""
    if getattr(module, 'frozen_eval', False):
        module.training = False


def _set_frozen_eval(module, frozen):
    module.frozen_eval = frozen
    if frozen and not getattr(module, '_keep_eval_hooked', False):
        module.register_forward_pre_hook(_keep_eval)
        module._keep_eval_hooked = True
    if frozen:
        module.training = False


def _check_keys(trainable):
    if isinstance(trainable, str) or not all(isinstance(k, str) and k
                                             for k in trainable):
        raise TypeError(f'trainable keys must be a list/tuple of non-empty str, '
                        f'got {trainable!r}')
    return tuple(trainable)


def _matches(name, keys):
    return any(key in name for key in keys)


def freeze(module, trainable=(), eval_frozen=True, key='trainable_keys'):
    """Freezes ``module`` except the parameters whose name contains a key.

    Args:
        module (nn.Module): The network (backbone, segmentor, ...).
        trainable (Sequence[str]): Substrings of the names (relative to
            ``module``) of the parameters that stay trainable, e.g.
            ``('adapter', 'injector', 'spatial_prior')``. Default: () (all
            frozen).
        eval_frozen (bool): Keep frozen modules in eval mode, also after
            ``module.train()``: those with parameters, none trainable (batch
            norm statistics, attention dropout), and the parameter-free dropout
            and drop-path layers whose name matches no key. Default: True.
        key (str): the config key of ``trainable``, named in errors.
            Default: 'trainable_keys'.

    Returns:
        list[str]: Names of the parameters left trainable.

    Raises:
        ValueError: A key matches no parameter of ``module``.
        TypeError: ``trainable`` is not a sequence of non-empty strings.
    """
    keys = _check_keys(trainable)
    names = [name for name, _ in module.named_parameters()]
    for k in keys:
        if not any(k in name for name in names):
            examples = ', '.join(repr(n) for n in names[:3])
            raise ValueError(
                f'trainable key {k!r} matches no parameter of '
                f'{type(module).__name__} (names look like {examples}); '
                f'check {key} in the config')
    kept = []
    for name, param in module.named_parameters():
        param.requires_grad_(_matches(name, keys))
        if param.requires_grad:
            kept.append(name)
    if eval_frozen:
        trainable_ids = {id(p) for p in module.parameters() if p.requires_grad}
        for name, sub in module.named_modules():
            params = [id(p) for p in sub.parameters()]
            if params:  # frozen: nothing trainable inside (attention dropout, ...)
                frozen = not any(p in trainable_ids for p in params)
            else:  # parameter-free dropout / drop-path: frozen unless named
                frozen = isinstance(sub, _MODE_DEPENDENT)
            frozen = frozen and not _matches(name, keys)
            if frozen or getattr(sub, 'frozen_eval', False):
                _set_frozen_eval(sub, frozen)
    return kept


def unfreeze(module):
    """Makes every parameter trainable again and releases the eval-mode lock.

    Args:
        module (nn.Module): A module previously passed to :func:`freeze`.
    """
    for param in module.parameters():
        param.requires_grad_(True)
    for sub in module.modules():
        if getattr(sub, 'frozen_eval', False):
            sub.frozen_eval = False
            sub.training = module.training


def trainable_parameters(module):
    """Yields ``(name, param)`` for the parameters with ``requires_grad``.

    Args:
        module (nn.Module): The network.
    """
    for name, param in module.named_parameters():
        if param.requires_grad:
            yield name, param
