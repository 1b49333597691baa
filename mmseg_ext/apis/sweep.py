"""Experiment sweeps: generated configs, run names, and the launcher that trains them.

In the manner of DAFormer's ``run_experiments.py``: an experiment id expands into
a list of config dicts (``_base_`` files plus overrides, see ``experiments.py``);
each is resolved here into one self-contained JSON under
``configs/generated/<exp>/<name>.json`` carrying the git revision, named

    YYMMDD_HHMM_{src}2{tgt}_{uda}_{rcs}_{cpl}_{arch}_{backbone}_{schedule}_s{seed}_{uid5}

and trained one after another by :func:`train_configs` (source training or an
online run, whatever the config's runner is).
"""
import json
import os
import os.path as osp
import re
import tempfile
import time
import uuid

from mmcv.utils import Config, get_git_hash

from ..core.fileio import atomic_write

__all__ = ['REPO_ROOT', 'resolve_config', 'run_name', 'generate_runs',
           'train_config', 'train_configs', 'report_runs', 'NAME_RE']

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NAME_RE = re.compile(r'^\d{6}_\d{4}_[a-z0-9-]+2[a-z0-9-]+_[a-z0-9-]+_[a-z0-9-]+_'
                     r'[a-z0-9-]+_[a-z0-9-]+_[a-z0-9-]+_[a-z0-9.-]+_s\d+_[0-9a-f]{5}$')
_NAME_KEYS = ('src', 'tgt', 'uda', 'rcs', 'cpl', 'arch', 'backbone', 'schedule')


def _slug(value):
    return re.sub(r'[^a-z0-9.-]+', '-', str(value).lower()).strip('-') or 'none'


def resolve_config(cfg_dict, root=REPO_ROOT):
    """Turns ``_base_`` paths (relative to ``root``) plus overrides into a Config.

    Args:
        cfg_dict (dict): ``_base_`` (list of paths relative to ``root``) and keys
            overriding them (merged as mmcv merges a child config).
        root (str): the repository root. Default: this checkout.

    Returns:
        mmcv.Config: the resolved config.
    """
    cfg_dict = dict(cfg_dict)
    bases = cfg_dict.pop('_base_', [])
    missing = [b for b in bases if not osp.isfile(osp.join(root, b))]
    if missing:
        raise FileNotFoundError(f'experiment config names missing _base_ file(s) '
                                f'{missing} (relative to {root})')
    cfg_dict['_base_'] = [osp.join(root, b) for b in bases]
    fd, tmp = tempfile.mkstemp(suffix='.json', prefix='.exp-')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(cfg_dict, f)
        return Config.fromfile(tmp)
    finally:
        os.remove(tmp)


def run_name(parts, seed, when=None, uid=None):
    """``YYMMDD_HHMM_{src}2{tgt}_{uda}_{rcs}_{cpl}_{arch}_{backbone}_{schedule}_s{seed}_{uid5}``.

    Args:
        parts (dict): ``src``, ``tgt``, ``uda``, ``rcs``, ``cpl``, ``arch``,
            ``backbone``, ``schedule`` (strings, slugged to ``[a-z0-9.-]``).
        seed (int): the run's seed.
        when (time.struct_time | None): the time stamp. Default: now.
        uid (str | None): 5 hex digits. Default: random.
    """
    missing = [k for k in _NAME_KEYS if k not in parts]
    if missing:
        raise KeyError(f'run name needs parts {list(_NAME_KEYS)}, missing {missing}')
    stamp = time.strftime('%y%m%d_%H%M', when or time.localtime())
    uid = uid or uuid.uuid4().hex[:5]
    p = {k: _slug(parts[k]) for k in _NAME_KEYS}
    return (f'{stamp}_{p["src"]}2{p["tgt"]}_{p["uda"]}_{p["rcs"]}_{p["cpl"]}_'
            f'{p["arch"]}_{p["backbone"]}_{p["schedule"]}_s{int(seed)}_{uid}')


def generate_runs(exp_cfgs, exp, out_root=None, work_root='work_dirs', custom=False,
                  root=REPO_ROOT, when=None):
    """Resolves experiment configs and writes them as JSON with the git revision.

    Args:
        exp_cfgs (Sequence[dict]): from ``generate_experiment_cfgs``; each has
            ``_base_``, overrides and ``name_parts`` (see :func:`run_name`).
        exp (int | str): the experiment id (folder name).
        out_root (str | None): Default: ``<root>/configs/generated``.
        work_root (str): parent of the runs' work dirs (``<work_root>/<exp>/<name>``).
            Default: 'work_dirs'.
        custom (bool): the configs came from ``experiments_custom`` (recorded in
            each config as ``custom``). Default: False.
        root (str): repository root. Default: this checkout.
        when (time.struct_time | None): time stamp of the names. Default: now.

    Returns:
        list[dict]: per run ``name``, ``cfg_file``, ``work_dir``.
    """
    out_root = out_root or osp.join(root, 'configs', 'generated')
    git_rev = _git_rev(root)
    when = when or time.localtime()
    runs = []
    for i, exp_cfg in enumerate(exp_cfgs):
        exp_cfg = dict(exp_cfg)
        parts = exp_cfg.pop('name_parts', None)
        if parts is None:
            raise KeyError(f'experiment {exp} config {i} has no name_parts')
        cfg = resolve_config(exp_cfg, root)
        name = run_name(parts, cfg.get('seed', 0), when)
        cfg.name = name
        cfg.exp = str(exp)
        cfg.custom = bool(custom)
        cfg.git_rev = git_rev
        cfg.work_dir = osp.join(work_root, str(exp), name)
        cfg_file = osp.join(out_root, str(exp), f'{name}.json')
        os.makedirs(osp.dirname(cfg_file), exist_ok=True)
        atomic_write(json.dumps(cfg._cfg_dict.to_dict(), indent=1, default=str), cfg_file)
        runs.append(dict(name=name, cfg_file=cfg_file, work_dir=cfg.work_dir))
    return runs


def _git_rev(root):
    cwd = os.getcwd()
    try:
        os.chdir(root)
        return get_git_hash(fallback='unknown')
    finally:
        os.chdir(cwd)


def train_config(cfg, overwrite=False, resume_from=None):
    """Trains one config (file or Config): an online run or source training.

    Returns:
        dict | object: an online run's summary metrics, or the source runner.
    """
    from .online import is_online_cfg, run_online
    if isinstance(cfg, str):
        cfg = Config.fromfile(cfg)
    if is_online_cfg(cfg):
        return run_online(cfg, overwrite=overwrite, resume_from=resume_from)
    from .train import train_source
    return train_source(cfg)


def train_configs(runs, overwrite=False, logger=print):
    """Trains generated runs one after another.

    Args:
        runs (Sequence[dict | str]): :func:`generate_runs` entries or config files.
        overwrite (bool): rerun finished online runs. Default: False.
        logger (callable): progress messages. Default: print.

    Returns:
        list: :func:`train_config` results, in order.
    """
    results = []
    for i, run in enumerate(runs):
        cfg_file = run['cfg_file'] if isinstance(run, dict) else run
        logger(f'[{i + 1}/{len(runs)}] {cfg_file}')
        results.append(train_config(cfg_file, overwrite=overwrite))
    return results


def report_runs(runs, out_dir):
    """Comparison of a sweep's finished online runs (``report.md``, ``report.json``,
    ``miou_stream.png`` with the runs overlaid) in ``out_dir``.

    Args:
        runs (Sequence[dict]): :func:`generate_runs` entries.
        out_dir (str): where the report goes (``<work_root>/<exp>``).

    Returns:
        str | None: the Markdown table, None when no online run finished.
    """
    from ..core.evaluation import compare_runs
    done = [r for r in runs if osp.isfile(osp.join(r['work_dir'], 'results.json'))]
    if not done:
        return None
    _, text = compare_runs([r['work_dir'] for r in done], [r['name'] for r in done],
                           out_dir=out_dir)
    return text
