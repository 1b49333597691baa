"""Registry of UDA/online-adaptation decorators and the train-model builder."""
import difflib
import inspect

from mmcv.utils import Registry
from mmseg.models import build_segmentor

from .utils.norm_stats import DEPRECATED_KEYS, translate_deprecated

UDA = Registry('uda')


def accepted_keys(cls):
    """Keyword arguments a class's constructor accepts, following ``**kwargs`` up
    the MRO (``DACS(..., **kwargs)`` -> ``UDADecorator(...)``)."""
    keys = set()
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(vars(klass)['__init__']).parameters.values()
        keys.update(p.name for p in params
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                    and p.name != 'self')
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return keys


def check_uda_cfg(uda_cfg):
    """Raises on an unknown method type or a key the method does not take.

    Args:
        uda_cfg (dict): ``cfg.uda`` (with ``type``).

    The keys ``uda.norm_stats`` replaced (:data:`~.utils.norm_stats.DEPRECATED_KEYS`)
    are accepted; :func:`build_train_model` translates them.

    Raises:
        KeyError: unknown type, or unknown keys (named, with the closest
            accepted key as a hint).
    """
    if 'type' not in uda_cfg:
        raise KeyError(f'uda config has no type; registered methods: '
                       f'{sorted(UDA.module_dict)}')
    cls = UDA.get(uda_cfg['type']) if isinstance(uda_cfg['type'], str) \
        else uda_cfg['type']
    if cls is None:
        raise KeyError(f'uda type {uda_cfg["type"]!r} is not registered; '
                       f'registered methods: {sorted(UDA.module_dict)}')
    accepted = accepted_keys(cls)
    unknown = sorted(k for k in uda_cfg
                     if k != 'type' and k not in accepted and k not in DEPRECATED_KEYS)
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, sorted(accepted), n=1)
            hints.append(f'{key!r}' + (f' (did you mean {close[0]!r}?)' if close else ''))
        raise KeyError(f'uda method {cls.__name__} has no key {", ".join(hints)}')


def build_train_model(cfg, train_cfg=None, test_cfg=None):
    """Builds what a run trains from its config.

    With a ``cfg.uda`` section, the adaptation method (a decorator registered in
    :data:`UDA`) wrapping the segmentor of ``cfg.model``; otherwise the plain
    segmentor of ``cfg.model`` (source training).
    """
    if cfg.get('uda') is not None:
        uda_cfg = translate_deprecated(dict(cfg.uda))
        check_uda_cfg({k: v for k, v in uda_cfg.items() if k != 'model'})
        uda_cfg['model'] = cfg.model
        return UDA.build(uda_cfg)
    return build_segmentor(cfg.model, train_cfg=train_cfg, test_cfg=test_cfg)
