"""Freezing a pretrained network except its parameter-efficient modules.

The API behind the config keys ``freeze_backbone=True`` and
``trainable_keys=[...]`` (parameter-efficient online adaptation: AdaptFormer,
ViT-Adapter, ViDA, visual prompts) and behind the config choice of what the EMA
teacher / frozen reference model of an adaptation method is:

* :func:`freeze` / :func:`unfreeze`: ``requires_grad`` by parameter name, and
  frozen modules (dropout, drop-path, batch norm, attention dropout) kept in
  eval mode even when the runner calls ``model.train()`` (a frozen layer must
  compute the pretrained function, not a noisy or statistics-updating variant
  of it).
* :func:`trainable_parameters`: what the optimizer is built from.
* :func:`set_peft_enabled`: switches the parameter-efficient modules on/off.
* :func:`make_reference_model`: a frozen copy of the student that either
  mirrors its adapters (``'mirror'``) or is the plain pretrained model
  (``'pretrained'``).

Keys match parameter (and module) names by substring, as the ``custom_keys``
of mmcv's optimizer constructor do: ``'adapter'`` matches
``backbone.layers.3.1.0.adapter.down.weight``.
"""
import copy

import torch.nn as nn
from mmcv.cnn.bricks.drop import DropPath as MMCVDropPath
from timm.layers import DropPath as TimmDropPath

from .peft_module import PEFTModule

REFERENCE_MODES = ('mirror', 'pretrained')

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


def freeze(module, trainable=(), eval_frozen=True):
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

    Returns:
        list[str]: Names of the parameters left trainable.

    Raises:
        ValueError: A key matches no parameter of ``module``.
        TypeError: ``trainable`` is not a sequence of non-empty strings.
    """
    keys = _check_keys(trainable)
    names = [name for name, _ in module.named_parameters()]
    for key in keys:
        if not any(key in name for name in names):
            examples = ', '.join(repr(n) for n in names[:3])
            raise ValueError(
                f'trainable key {key!r} matches no parameter of '
                f'{type(module).__name__} (names look like {examples}); '
                f'check trainable_keys in the config')
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


def set_peft_enabled(module, enabled):
    """Switches every :class:`PEFTModule` inside ``module`` on or off.

    Args:
        module (nn.Module): The network.
        enabled (bool): False reduces the network to its plain pretrained
            function (adapters, injectors, ViDA branches, prompts skipped).

    Returns:
        int: How many parameter-efficient modules were switched.
    """
    count = 0
    for sub in module.modules():
        if isinstance(sub, PEFTModule):
            sub.enabled = bool(enabled)
            count += 1
    return count


def make_reference_model(student, mode='mirror'):
    """A frozen copy of the student for an EMA teacher or a reference model.

    The config choice of an adaptation method (``teacher_mode`` /
    ``reference_mode``):

    * ``'mirror'``: the copy has the student's adapters (same architecture and
      weights); an EMA teacher then updates every parameter the student
      trains, adapters included.
    * ``'pretrained'``: the copy is the plain, fully frozen pretrained model:
      its parameter-efficient modules are switched off, so it computes the
      function of the network without adapters. It is not meant to be updated.

    Args:
        student (nn.Module): The model being adapted (not wrapped in a
            data-parallel module).
        mode (str): ``'mirror'`` or ``'pretrained'``. Default: 'mirror'.

    Returns:
        nn.Module: The copy, every parameter frozen, in eval mode, on the
        student's device.
    """
    if mode not in REFERENCE_MODES:
        raise ValueError(f'reference model mode must be one of {REFERENCE_MODES}, '
                         f'got {mode!r}')
    reference = copy.deepcopy(student)
    if mode == 'pretrained':
        set_peft_enabled(reference, False)
    freeze(reference, trainable=())
    return reference.eval()
