"""Loading a config with command-line overrides, the same way in every tool."""
import os.path as osp

from mmcv.utils import Config

from ..datasets import replace_roots

__all__ = ['ROOT_KEYS', 'load_config', 'apply_root_options', 'default_work_dir']

#: Top-level config keys naming a data root; each data set family has its own
#: (``configs/_base_/datasets/cityscapes.py`` lists them). ``data_root`` is the root
#: of the config's main data set (Cityscapes, ProcCity or, in the single-condition
#: ACDC files, ACDC).
ROOT_KEYS = ('data_root', 'cityscapes_root', 'rain_cityscapes_root', 'foggy_cityscapes_root',
             'acdc_root')


def apply_root_options(cfg, cfg_options):
    """Merges ``cfg_options`` into ``cfg``, moving the datasets of each overridden root.

    A config file copies its root keys into the datasets when it is parsed
    (``data_root={{_base_.cityscapes_root}}``), so an override of the key alone
    would not reach them. Each overridden root key moves the datasets whose
    ``data_root`` / ``label_root`` equals that key's value before the override, and
    no others (``data_root=X`` moves Cityscapes, not ACDC). Root keys that had the
    same value follow the override (``data_root`` and ``cityscapes_root``).

    Args:
        cfg (mmcv.Config): The parsed config (modified in place).
        cfg_options (dict): ``key=value`` overrides (dotted keys).

    Raises:
        KeyError: a root key (``*_root``) the config does not have (a typo would
            otherwise add a key that moves nothing).
        ValueError: two root keys with the same value given different values.
    """
    given = {k: v for k, v in cfg_options.items()
             if k in ROOT_KEYS or (k.endswith('_root') and '.' not in k)}
    mapping = {}
    for key, new in given.items():
        if key not in cfg:
            present = [k for k in ROOT_KEYS if k in cfg]
            raise KeyError(f'--cfg-options {key}=...: this config has no {key}; its root '
                           f'keys are {present}')
        old = cfg[key]
        if mapping.get(old, new) != new:
            raise ValueError(f'--cfg-options: root keys with the same value {old!r} were '
                             f'given different values ({mapping[old]!r} and {new!r})')
        mapping[old] = new
    followers = {k: mapping[cfg[k]] for k in ROOT_KEYS
                 if k in cfg and k not in given and cfg[k] in mapping}
    cfg.merge_from_dict(cfg_options)
    if mapping:
        cfg.merge_from_dict(followers)
        if cfg.get('data') is not None:
            replace_roots(cfg.data, mapping)


def load_config(filename, cfg_options=None):
    """``Config.fromfile`` plus ``--cfg-options`` overrides (roots: :func:`apply_root_options`).

    Args:
        filename (str): the config file.
        cfg_options (dict | None): ``key=value`` overrides (dotted keys).
            Default: None.

    Returns:
        mmcv.Config: the config.
    """
    cfg = Config.fromfile(filename)
    if cfg_options:
        apply_root_options(cfg, cfg_options)
    return cfg


def default_work_dir(filename, work_root='work_dirs'):
    """str: the work dir of a config that sets none, ``<work_root>/<file stem>``
    (mmseg's ``tools/train.py`` convention)."""
    return osp.join(work_root, osp.splitext(osp.basename(filename))[0])
