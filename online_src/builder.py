"""Registries of the online controller's parts and the builder of a section.

HAMLET's controller (Colomer et al., ICCV 2023, arXiv:2307.15063) has three
exchangeable parts, each chosen by the ``type`` of its section of
``runner.controller`` (``configs/_base_/online/online_runner.py``):

* :data:`DETECTORS`: domain-change detectors (``controller.detector``);
* :data:`SCHEDULES`: reactions to a change, learning rate, mix ratio
  (``controller.schedule``);
* :data:`MODULE_POLICIES`: modular-training policies (``controller.module_policy``).

They are mmcv :class:`~mmcv.utils.Registry` objects, as mmseg's ``BACKBONES`` or
``HEADS``: a researcher adds a part from their own module with
``@DETECTORS.register_module()`` and selects it with ``type='MyDetector'`` (the
config's ``custom_imports = dict(imports=['my_module'])`` imports it).
:func:`build_part` resolves the ``type`` first, so an unknown one is named with the
section, the value and the registered names before anything is built; the rest is
mmcv's :func:`~mmcv.utils.build_from_cfg`.
"""
import inspect

from mmcv.utils import Registry, build_from_cfg

__all__ = ['DETECTORS', 'SCHEDULES', 'MODULE_POLICIES', 'part_class', 'build_part',
           'PART_METHODS', 'PART_ATTRIBUTES']

DETECTORS = Registry('domain detector')
SCHEDULES = Registry('schedule')
MODULE_POLICIES = Registry('module policy')

# What the controller and the runner use of each part (docs/interfaces.md,
# "Controller parts"): methods, then attributes.
PART_ATTRIBUTES = {'detector': ('signal', 'changes')}
PART_METHODS = {
    'detector': ('update', 'state_dict', 'load_state_dict'),
    'schedule': ('training', 'on_change', 'current_mix_ratio', 'apply', 'step',
                 'state_dict', 'load_state_dict'),
    'module_policy': ('choose', 'update', 'histogram', 'state_dict', 'load_state_dict'),
}
_REGISTRY_NAMES = {id(DETECTORS): 'DETECTORS', id(SCHEDULES): 'SCHEDULES',
                   id(MODULE_POLICIES): 'MODULE_POLICIES'}


def part_class(registry, section, type):
    """The class a section's ``type`` names.

    Args:
        registry (Registry): :data:`DETECTORS`, :data:`SCHEDULES` or
            :data:`MODULE_POLICIES`.
        section (str): the section of ``runner.controller`` (for the message).
        type (str | type): a registered name, or a class itself.

    Raises:
        ValueError: ``type`` is not registered; the message names the key, the
            value and the registered names.
    """
    if inspect.isclass(type):
        return type
    # a dotted name of an unknown scope makes mmcv's lookup climb to a parent
    # this registry has not got
    cls = registry.get(type) if isinstance(type, str) and (
        '.' not in type or type.split('.', 1)[0] == registry.scope) else None
    if cls is None:
        name = _REGISTRY_NAMES.get(id(registry), registry.name)
        raise ValueError(f'runner.controller.{section}.type={type!r} is not a '
                         f'registered {registry.name}; registered: '
                         f'{sorted(registry.module_dict)} (add one with '
                         f'@online_src.{name}.register_module())')
    return cls


def build_part(registry, section, cfg, default_type):
    """Builds one controller part from its section.

    Args:
        registry (Registry): where ``cfg['type']`` is looked up.
        section (str): the section of ``runner.controller`` (for messages).
        cfg (dict): ``type`` (default ``default_type``) and the constructor's
            keyword arguments.
        default_type (str): the type when ``cfg`` has none.

    Returns:
        The part.

    Raises:
        ValueError: unknown ``type`` (see :func:`part_class`).
        TypeError: the built object lacks a method or attribute the controller
            or the runner uses (:data:`PART_METHODS`, :data:`PART_ATTRIBUTES`).
    """
    cfg = dict(cfg)
    cfg['type'] = part_class(registry, section, cfg.get('type', default_type))
    part = build_from_cfg(cfg, registry)
    needs = list(PART_METHODS[section]) + list(PART_ATTRIBUTES.get(section, ()))
    missing = [m for m in PART_METHODS[section] if not callable(getattr(part, m, None))]
    missing += [a for a in PART_ATTRIBUTES.get(section, ()) if not hasattr(part, a)]
    if missing:
        raise TypeError(f'runner.controller.{section}.type {cfg["type"].__name__} lacks '
                        f'{missing}; a {registry.name} needs {needs}')
    return part
