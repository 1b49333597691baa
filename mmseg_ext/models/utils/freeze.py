"""Frozen copies of the student and the switch of its parameter-efficient modules.

The config choice of what the EMA teacher / frozen reference model of an
adaptation method is (``uda.teacher_mode`` / ``uda.reference_mode``):

* :func:`set_peft_enabled`: switches the parameter-efficient modules on/off.
* :func:`make_reference_model`: a frozen copy of the student that either
  mirrors its adapters (``'mirror'``) or is the plain pretrained model
  (``'pretrained'``).

Which parameters train is decided in one place,
:func:`~mmseg_ext.models.utils.trainable.set_trainable`; :func:`freeze`,
:func:`unfreeze` and :func:`trainable_parameters` live there and are importable
from here as before.
"""
import copy

from .peft_module import PEFTModule
from .trainable import freeze, set_trainable, trainable_parameters, unfreeze

__all__ = ['REFERENCE_MODES', 'freeze', 'unfreeze', 'trainable_parameters',
           'set_peft_enabled', 'make_reference_model']

REFERENCE_MODES = ('mirror', 'pretrained')


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
    set_trainable(reference, 'none')
    return reference.eval()
