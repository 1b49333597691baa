"""Experiment sweeps: generated configs, run names, and the launcher that trains them.

In the manner of DAFormer's ``run_experiments.py``: an experiment id expands into
a list of config dicts (``_base_`` files plus overrides, see ``experiments.py``);
each is resolved here into one self-contained Python config under
``configs/generated/<exp>/<name>.py`` carrying the git revision, named

    YYMMDD_HHMM_{src}2{tgt}_{uda}_{rcs}_{cpl}_{arch}_{backbone}_{schedule}_s{seed}_{uid5}

and trained one after another by :func:`train_configs` (source training or an
online run, whatever the config's runner is). The name parts that a resolved key
decides (``rcs``, ``cpl``) are read from the resolved config
(:func:`resolved_name_parts`); the others are the experiment's labels.

Why Python and not DAFormer's JSON: JSON has no tuple, so a resolved config
written as JSON loads back with lists where mmseg's pipelines demand tuples
(``Resize(img_scale=(w, h))`` asserts on a list). Each config is written by
:func:`mmseg_ext.apis.config.write_config`, which loads the file back and raises
when anything differs. What a sweep writes is therefore exactly the config it
generated, for every consumer (``tools/train.py``, the sbatch scripts,
``run_experiments.py --config``) with no special loader.
"""
import os
import os.path as osp
import re
import tempfile
import time
import uuid

from mmcv.utils import get_git_hash

from mmseg_ext.apis.config import (check_load_from, config_text, default_work_dir, is_online_cfg,
                                   load_config, write_config)

__all__ = ['REPO_ROOT', 'resolve_config', 'resolved_name_parts', 'run_name',
           'generate_runs', 'train_config', 'train_configs', 'report_runs', 'NAME_RE']

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NAME_RE = re.compile(r'^\d{6}_\d{4}_[a-z0-9-]+2[a-z0-9-]+_[a-z0-9-]+_[a-z0-9-]+_'
                     r'[a-z0-9-]+_[a-z0-9-]+_[a-z0-9-]+_[a-z0-9.-]+_s\d+_[0-9a-f]{5}$')
_NAME_KEYS = ('src', 'tgt', 'uda', 'rcs', 'cpl', 'arch', 'backbone', 'schedule')
# Name parts read from the resolved config (resolved_name_parts), never given by hand.
RESOLVED_NAME_KEYS = ('rcs', 'cpl')


def _slug(value):
    return re.sub(r'[^a-z0-9.-]+', '-', str(value).lower()).strip('-') or 'none'


def resolve_config(cfg_dict, root=REPO_ROOT, cfg_options=None):
    """Turns ``_base_`` paths (relative to ``root``) plus overrides into a Config.

    Args:
        cfg_dict (dict): ``_base_`` (list of paths relative to ``root``) and keys
            overriding them (merged as mmcv merges a child config).
        root (str): the repository root. Default: this checkout.
        cfg_options (dict | None): ``--cfg-options`` overrides applied last, as
            ``tools/train.py`` applies them. Default: None.

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
    fd, tmp = tempfile.mkstemp(suffix='.py', prefix='exp_')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(config_text(cfg_dict))
        return load_config(tmp, cfg_options)
    finally:
        os.remove(tmp)


def resolved_name_parts(cfg):
    """The run-name parts that the resolved config decides.

    * ``rcs``: ``'rcs'`` when a source dataset of ``data.train`` (a
      ``SourceDataset``) samples rare classes (DAFormer's rare-class sampling:
      its ``rare_class_sampling`` is set), else ``'norcs'``;
    * ``cpl``: ``'cpl'`` when the adaptation method crops the pseudo-label weight
      (DAFormer's ``uda.pseudo_weight_ignore_top`` / ``_bottom`` above 0), else
      ``'nocpl'``.

    Args:
        cfg (mmcv.Config | dict): the resolved config (after the ``_base_`` merge).

    Returns:
        dict: ``rcs`` and ``cpl``.
    """
    train = (cfg.get('data') or {}).get('train') or []
    train = train if isinstance(train, (list, tuple)) else [train]
    rcs = any(d.get('type') == 'SourceDataset' and d.get('rare_class_sampling') is not None
              for d in train)
    uda = cfg.get('uda') or {}
    cpl = any((uda.get(k) or 0) > 0
              for k in ('pseudo_weight_ignore_top', 'pseudo_weight_ignore_bottom'))
    return dict(rcs='rcs' if rcs else 'norcs', cpl='cpl' if cpl else 'nocpl')


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
                  root=REPO_ROOT, when=None, cfg_options=None):
    """Resolves experiment configs and writes them as Python configs with the git
    revision (:func:`write_config`: each loads back to exactly what was resolved).

    Args:
        exp_cfgs (Sequence[dict]): from ``generate_experiment_cfgs``; each has
            ``_base_``, overrides and ``name_parts``: the parts of
            :func:`run_name` other than :func:`resolved_name_parts`' (``rcs`` and
            ``cpl`` come from the resolved config; giving them raises).
        exp (int | str): the experiment id (folder name).
        out_root (str | None): Default: ``<root>/configs/generated``.
        work_root (str): parent of the runs' work dirs (``<work_root>/<exp>/<name>``).
            Default: 'work_dirs'.
        custom (bool): the configs came from ``experiments_custom`` (recorded in
            each config as ``custom``). Default: False.
        root (str): repository root. Default: this checkout.
        when (time.struct_time | None): time stamp of the names. Default: now.
        cfg_options (dict | None): ``--cfg-options`` applied to every config
            (e.g. ``data_root``). Default: None.

    Returns:
        list[dict]: per run ``name``, ``cfg_file``, ``work_dir`` and the resolved
        ``cfg`` (what ``cfg_file`` loads back to).
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
        given = sorted(set(parts) & set(RESOLVED_NAME_KEYS))
        if given:
            raise ValueError(f'experiment {exp} config {i}: name_parts {given} are read '
                             f'from the resolved config, not given')
        cfg = resolve_config(exp_cfg, root, cfg_options)
        name = run_name(dict(parts, **resolved_name_parts(cfg)), cfg.get('seed', 0), when)
        cfg.name = name
        cfg.exp = str(exp)
        cfg.custom = bool(custom)
        cfg.git_rev = git_rev
        cfg.work_dir = osp.join(work_root, str(exp), name)
        cfg_file = osp.join(out_root, str(exp), f'{name}.py')
        os.makedirs(osp.dirname(cfg_file), exist_ok=True)
        write_config(cfg, cfg_file, header=f'{name}: experiment {exp}, generated by '
                     f'run_experiments.py at git revision {git_rev}')
        runs.append(dict(name=name, cfg_file=cfg_file, work_dir=cfg.work_dir, cfg=cfg))
    return runs


def _git_rev(root):
    cwd = os.getcwd()
    try:
        os.chdir(root)
        return get_git_hash(fallback='unknown')
    finally:
        os.chdir(cwd)


def _load_run_config(cfg, work_root='work_dirs'):
    """The Config of a config file (work dir derived as ``tools/train.py`` does when
    the file sets none) or the Config itself."""
    if isinstance(cfg, str):
        cfg_file, cfg = cfg, load_config(cfg)
        if not cfg.get('work_dir'):
            cfg.work_dir = default_work_dir(cfg_file, work_root)
    return cfg


def train_config(cfg, overwrite=False, resume_from=None, work_root='work_dirs'):
    """Trains one config (file or Config): an online run or source training.

    Args:
        cfg (str | mmcv.Config): the config; a file without ``work_dir`` runs in
            ``<work_root>/<file name without extension>`` (as ``tools/train.py``).
        overwrite (bool): rerun a finished online run. Default: False.
        resume_from (str | None): online runs: checkpoint to continue from.
            Default: None.
        work_root (str): see ``cfg``. Default: 'work_dirs'.

    Returns:
        dict | object: an online run's summary metrics, or the source runner.
    """
    from mmseg_ext.apis.train import train_source

    from . import online  # lazy: the runner and models load only when a run trains
    cfg = _load_run_config(cfg, work_root)
    if is_online_cfg(cfg):
        return online.run_online(cfg, overwrite=overwrite, resume_from=resume_from)
    return train_source(cfg)


def train_configs(runs, overwrite=False, logger=print, work_root='work_dirs'):
    """Trains generated runs one after another.

    Every run's source checkpoint (``load_from``) is checked before the first run
    starts (:func:`~mmseg_ext.apis.config.check_load_from`), so a sweep missing
    one stops before any work with the recipe that makes it.

    Args:
        runs (Sequence[dict | str]): :func:`generate_runs` entries or config files.
        overwrite (bool): rerun finished online runs. Default: False.
        logger (callable): progress messages. Default: print.
        work_root (str): work root of config files without a ``work_dir``.
            Default: 'work_dirs'.

    Returns:
        list: :func:`train_config` results, in order.
    """
    files = [run['cfg_file'] if isinstance(run, dict) else run for run in runs]
    cfgs = [_load_run_config(f, work_root) for f in files]
    for cfg in cfgs:
        check_load_from(cfg, cfg.get('resume_from'))
    results = []
    for i, (cfg_file, cfg) in enumerate(zip(files, cfgs)):
        logger(f'[{i + 1}/{len(runs)}] {cfg_file}')
        results.append(train_config(cfg, overwrite=overwrite))
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
    from mmseg_ext.core.evaluation import compare_runs
    done = [r for r in runs if osp.isfile(osp.join(r['work_dir'], 'results.json'))]
    if not done:
        return None
    _, text = compare_runs([r['work_dir'] for r in done], [r['name'] for r in done],
                           out_dir=out_dir)
    return text
