"""Loading a config with command-line overrides, the same way in every tool, and
the checks of a config every run makes before building anything."""
import difflib
import hashlib
import json
import os.path as osp

from mmcv.utils import Config

from ..datasets import set_data_root
from ..models.builder import accepted_keys

__all__ = ['load_config', 'is_online_cfg', 'config_hash', 'check_section_keys',
           'check_data_roots', 'HASH_IGNORED']


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


# Keys that do not change what a run computes (where it writes, how it logs).
HASH_IGNORED = ('work_dir', 'resume_from', 'load_from', 'gpu_ids', 'overwrite',
                'name', 'exp', 'git_rev', 'log_config', 'checkpoint_config',
                'custom', 'custom_hooks', 'device', 'launcher', 'trusted_checkpoint',
                'progress_bar')


def is_online_cfg(cfg):
    """bool: the config's runner is the online runner."""
    return cfg.get('runner', {}).get('type') == 'OnlineRunner'


def config_hash(cfg):
    """str: a fingerprint of what a run computes (resume guard)."""
    d = {k: v for k, v in cfg._cfg_dict.to_dict().items() if k not in HASH_IGNORED}
    text = json.dumps(d, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def check_section_keys(section, cls, what, skip=(), extra=()):
    """Raises on a key of a config section that ``cls``'s constructor does not take.

    Args:
        section (dict): the config section (``type`` is ignored).
        cls (type): the class it builds.
        what (str): the section's name in the error (e.g. 'runner').
        skip (Sequence[str]): constructor arguments the code passes itself.
        extra (Sequence[str]): keys taken through ``**kwargs``.

    Raises:
        KeyError: naming every unknown key, with the closest accepted key.
    """
    accepted = sorted((accepted_keys(cls) | set(extra)) - set(skip))
    unknown = sorted(k for k in section if k != 'type' and k not in accepted)
    if unknown:
        hints = [f'{k!r}' + (f' (did you mean {c[0]!r}?)' if c else '')
                 for k in unknown for c in [difflib.get_close_matches(k, accepted, n=1)]]
        raise KeyError(f'{what} ({cls.__name__}) has no key {", ".join(hints)}')


def check_data_roots(data_cfg, prefix='data'):
    """Raises when a ``data_root`` of a dataset entry (nested ones too) is missing."""
    if isinstance(data_cfg, (list, tuple)):
        for i, c in enumerate(data_cfg):
            check_data_roots(c, f'{prefix}[{i}]')
    elif isinstance(data_cfg, dict):
        root = data_cfg.get('data_root')
        if isinstance(root, str) and root and not osp.isdir(root):
            raise FileNotFoundError(f'{prefix}.data_root: {root} does not exist (set '
                                    f'data_root in the config or --cfg-options '
                                    f'data_root=...)')
        for k, v in data_cfg.items():
            if isinstance(v, (dict, list, tuple)):
                check_data_roots(v, f'{prefix}.{k}')
