"""Loading a config with command-line overrides, the same way in every tool."""
import os.path as osp

from mmcv.utils import Config

from ..datasets import set_data_root

__all__ = ['load_config', 'default_work_dir']


def load_config(filename, cfg_options=None):
    """``Config.fromfile`` plus ``--cfg-options`` overrides.

    ``data_root`` is copied into every dataset entry when a config file is parsed,
    so an overridden top-level ``data_root`` is also written into each dataset
    (nested wrappers and lists included).

    Args:
        filename (str): the config file.
        cfg_options (dict | None): ``key=value`` overrides (dotted keys).
            Default: None.

    Returns:
        mmcv.Config: the config.
    """
    cfg = Config.fromfile(filename)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        if 'data_root' in cfg_options and cfg.get('data') is not None:
            set_data_root(cfg.data, cfg_options['data_root'])
    return cfg


def default_work_dir(filename, work_root='work_dirs'):
    """str: the work dir of a config that sets none, ``<work_root>/<file stem>``
    (mmseg's ``tools/train.py`` convention)."""
    return osp.join(work_root, osp.splitext(osp.basename(filename))[0])
