"""Loading a config with command-line overrides, the same way in every tool, the
checks of a config every run makes before building anything, and the one writer of
resolved configs.

Why the writer is not mmcv's ``Config.dump``: its ``pretty_text`` quotes strings
without escaping them, so a string with a quote (``"it's"``) makes a file that does
not parse. :func:`write_config` writes each top-level key as a Python literal
(``pprint.pformat``: the ``repr`` of ``dict``/``list``/``tuple``/``str``/numbers,
which Python reads back to equal values of the same types) and then loads the file
back with ``Config.fromfile``, raising when anything differs (:func:`config_diff`,
types included). A sweep's generated configs (``configs/generated/``) and every
run's work-dir ``config.py`` are written by it.
"""
import ast
import difflib
import hashlib
import json
import keyword
import os
import os.path as osp
import pprint

from mmcv.utils import Config

from ..core.fileio import atomic_write
from ..datasets import replace_roots
from ..models.builder import accepted_keys

__all__ = ['ROOT_KEYS', 'load_config', 'apply_root_options', 'default_work_dir',
           'is_online_cfg', 'config_hash', 'check_section_keys', 'check_data_roots',
           'check_load_from', 'HASH_IGNORED', 'config_text', 'config_diff', 'write_config']

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


# Keys that do not change what a run computes (where it writes, how it logs).
HASH_IGNORED = ('work_dir', 'resume_from', 'load_from', 'gpu_ids', 'overwrite',
                'name', 'exp', 'git_rev', 'log_config', 'checkpoint_config',
                'custom', 'custom_hooks', 'device', 'launcher', 'trusted_checkpoint',
                'progress_bar', 'load_from_recipe')


def check_load_from(cfg, resume_from=None):
    """Raises FileNotFoundError when the run's start checkpoint ``load_from`` (a
    local path) is set but absent (unless the run resumes), quoting
    ``load_from_recipe`` (how to make it) when the config has one."""
    load_from = cfg.get('load_from')
    if resume_from is None and load_from and '://' not in load_from \
            and not osp.isfile(load_from):
        recipe = cfg.get('load_from_recipe')
        raise FileNotFoundError(
            f'load_from: the source checkpoint {load_from} does not exist'
            + (f'. To make it: {recipe}' if recipe else ''))


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


def config_text(cfg_dict, header=''):
    """A Python config file whose top-level keys are ``cfg_dict``'s, as literals.

    Args:
        cfg_dict (dict): plain values (dict, list, tuple, str, int, float, bool,
            None) under identifier keys.
        header (str): comment lines written first. Default: ''.

    Returns:
        str: the file's text.
    """
    bad = [k for k in cfg_dict if not str(k).isidentifier() or keyword.iskeyword(k)]
    if bad:
        raise ValueError(f'config keys {bad} are not Python identifiers: a config '
                         f'file cannot hold them at the top level')
    lines = [f'# {line}' for line in header.splitlines()]
    for key, value in cfg_dict.items():
        text = pprint.pformat(value, width=88, sort_dicts=False)
        try:
            ast.literal_eval(text)
        except (ValueError, SyntaxError) as err:
            raise ValueError(f'config key {key!r} holds a value with no Python literal '
                             f'({err}): {text[:200]}') from None
        lines.append(f'{key} = {text}')
    return '\n'.join(lines) + '\n'


def config_diff(a, b, path=''):
    """Where two config values differ, types included (a tuple is not a list).

    Args:
        a, b: config values (``Config``/``ConfigDict`` are compared as plain dicts).
        path (str): prefix of the reported key paths. Default: ''.

    Returns:
        list[str]: dotted key paths (``data.train[1].pipeline[2].img_scale``) with
        what differs; empty when equal.
    """
    a, b = (x._cfg_dict.to_dict() if isinstance(x, Config) else x for x in (a, b))
    a, b = (x.to_dict() if hasattr(x, 'to_dict') else x for x in (a, b))
    if type(a) is not type(b):
        return [f'{path or "<root>"}: {type(a).__name__} {a!r} != '
                f'{type(b).__name__} {b!r}']
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f'{path or "<root>"}: keys {list(a)} != {list(b)}']
        return [d for k in a for d in config_diff(a[k], b[k], f'{path}.{k}' if path
                                                  else str(k))]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f'{path}: length {len(a)} != {len(b)}']
        return [d for i, (x, y) in enumerate(zip(a, b))
                for d in config_diff(x, y, f'{path}[{i}]')]
    return [] if a == b else [f'{path}: {a!r} != {b!r}']


def write_config(cfg, path, header=''):
    """Writes ``cfg`` as a Python config and checks that it loads back equal.

    Args:
        cfg (mmcv.Config | dict): the resolved config.
        path (str): the ``.py`` file (written atomically).
        header (str): comment lines at the top. Default: ''.

    Raises:
        ValueError: the file does not load back to ``cfg`` (types included; the
            file is removed); the message lists the differing keys.
    """
    if not path.endswith('.py'):
        raise ValueError(f'{path}: generated configs are Python files (.py)')
    cfg_dict = cfg._cfg_dict.to_dict() if isinstance(cfg, Config) else dict(cfg)
    atomic_write(config_text(cfg_dict, header), path)
    diff = config_diff(cfg_dict, Config.fromfile(path))
    if diff:
        os.remove(path)
        raise ValueError(f'{path} does not load back to the config it was written '
                         f'from: {diff[:5]}')
