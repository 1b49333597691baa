"""Online adaptation runs: build everything from a config and stream.

:func:`train_online` is what ``tools/train.py`` calls for a config whose runner is
the :class:`~online_src.OnlineRunner`: it checks the config (before anything
heavy is built), builds the datasets (source first), the adaptation method
around its segmentor and its optimizer (:func:`build_online_model`, shared with
the step profiler), the runner and its hooks, resumes a run if asked, and
streams. :func:`run_online` does the same and returns the run's summary metrics
(the hyper-parameter search's objective).
"""
import hashlib
import json
import logging
import os
import os.path as osp
import time

import mmcv
import torch
from mmcv.runner import HOOKS, build_optimizer, build_runner
from mmcv.utils import Config, build_from_cfg, get_git_hash
from mmseg.apis import set_random_seed
from mmseg.datasets import build_dataset
from mmseg.utils import build_dp, get_root_logger

import online_src
from ..core.checkpoint import load_checkpoint
from ..core.evaluation import OnlineEvalHook, summarize_run
from ..core.log_backends import resolve_log_config
from ..models import build_train_model

__all__ = ['train_online', 'run_online', 'build_online_model', 'check_online_cfg',
           'check_load_from',
           'config_hash', 'is_online_cfg', 'FINISHED_FILE', 'RUN_FILES']

FINISHED_FILE = 'summary.json'
RUN_FILES = ('summary.json', 'results.csv', 'results.json', 'fps.npy',
             'miou_stream.png', 'latest.pth')
# Keys that do not change what a run computes (where it writes, how it logs).
_HASH_IGNORED = ('work_dir', 'resume_from', 'load_from', 'gpu_ids', 'overwrite',
                 'name', 'exp', 'git_rev', 'log_config', 'checkpoint_config',
                 'custom', 'custom_hooks', 'device', 'launcher', 'trusted_checkpoint',
                 'load_from_recipe')


def is_online_cfg(cfg):
    """bool: the config's runner is the online runner."""
    return cfg.get('runner', {}).get('type') == 'OnlineRunner'


def config_hash(cfg):
    """str: a fingerprint of what a run computes (resume guard)."""
    d = {k: v for k, v in cfg._cfg_dict.to_dict().items() if k not in _HASH_IGNORED}
    text = json.dumps(d, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _is_source(dataset_cfg):
    from mmseg.datasets import DATASETS
    cls = DATASETS.get(dataset_cfg.get('type', ''))
    return cls is not None and any(c.__name__ == 'SourceDataset' for c in cls.__mro__)


def check_online_cfg(cfg, resume_from=None, overwrite=False):
    """Raises a clear error for a config that cannot run, before building anything.

    Checks: the runner is ``OnlineRunner``; ``data.train`` is a list whose first
    entry is a ``SourceDataset`` and the rest name their domains; every name of
    ``runner.domain_order`` is one of them; a ``work_dir`` is set and does not
    hold a finished run (unless ``overwrite``); ``resume_from`` exists.
    """
    if not is_online_cfg(cfg):
        raise ValueError(f"train_online needs runner.type='OnlineRunner', got "
                         f"{cfg.get('runner', {}).get('type')!r}")
    train = cfg.data.get('train')
    if not isinstance(train, (list, tuple)) or len(train) < 2:
        raise ValueError('an online config needs data.train = [source_cfg, '
                         'target_cfg, ...] (source first, then one dataset per '
                         f'domain); got {type(train).__name__}')
    if not _is_source(train[0]):
        raise ValueError(f'data.train[0] must be the source dataset (a '
                         f'SourceDataset), got type {train[0].get("type")!r}')
    names = []
    for i, t in enumerate(train[1:], start=1):
        if 'name' not in t:
            raise ValueError(f'data.train[{i}] ({t.get("type")}) has no `name`: each '
                             f'target dataset names its domain')
        names.append(t['name'])
    order = cfg.runner.get('domain_order', online_src.STORM_ORDER)
    online_src.check_domain_order(order, names, 'target datasets of data.train')
    for i, v in enumerate(cfg.data.get('val') or []):
        if 'name' not in v:
            raise ValueError(f'data.val[{i}] ({v.get("type")}) has no `name`')
    if not cfg.get('work_dir'):
        raise ValueError('an online run needs a work_dir')
    if osp.isfile(osp.join(cfg.work_dir, FINISHED_FILE)) and not overwrite:
        raise FileExistsError(f'{cfg.work_dir} already holds a finished run '
                              f'({FINISHED_FILE}); pass --overwrite to run it again')
    if resume_from is not None and not osp.isfile(resume_from):
        raise FileNotFoundError(f'resume checkpoint {resume_from} does not exist')
    check_load_from(cfg, resume_from)


def check_load_from(cfg, resume_from=None):
    """Raises FileNotFoundError when the run's start checkpoint ``load_from`` is
    set but absent (unless the run resumes), quoting ``load_from_recipe`` (how to
    make it) when the config has one."""
    load_from = cfg.get('load_from')
    if resume_from is None and load_from and not osp.isfile(load_from):
        recipe = cfg.get('load_from_recipe')
        raise FileNotFoundError(
            f'load_from: the source checkpoint {load_from} does not exist'
            + (f'. To make it: {recipe}' if recipe else ''))


def _clear_work_dir(work_dir):
    for name in RUN_FILES:
        path = osp.join(work_dir, name)
        if osp.isfile(path):
            os.remove(path)


def _build_datasets(cfg):
    train = [build_dataset(c) for c in cfg.data.train]
    val = [build_dataset(c, dict(test_mode=True)) for c in cfg.data.get('val') or []]
    return train, val


def train_online(cfg, timestamp=None, meta=None, resume_from=None, overwrite=False,
                 device=None):
    """Builds and runs one online adaptation run.

    Args:
        cfg (mmcv.Config): the run's config (online layout, see
            docs/interfaces.md); ``cfg.work_dir`` must be set.
        timestamp (str | None): names the log files. Default: now.
        meta (dict | None): extra metadata saved in checkpoints. Default: None.
        resume_from (str | None): a checkpoint of this config to continue from
            (also ``cfg.resume_from``). Default: None.
        overwrite (bool): run again in a work dir holding a finished run
            (also ``cfg.overwrite``). Default: False.
        device (str | None): 'cuda' or 'cpu'; None picks CUDA when available
            (also ``cfg.device``). Default: None.

    Returns:
        OnlineRunner: the runner after the stream.
    """
    resume_from = resume_from or cfg.get('resume_from')
    overwrite = overwrite or bool(cfg.get('overwrite', False))
    check_online_cfg(cfg, resume_from, overwrite)
    work_dir = osp.abspath(cfg.work_dir)
    mmcv.mkdir_or_exist(work_dir)
    if overwrite and resume_from is None:
        _clear_work_dir(work_dir)
    timestamp = timestamp or time.strftime('%Y%m%d_%H%M%S', time.localtime())
    logger, handler = _run_logger(osp.join(work_dir, f'{timestamp}.log'),
                                  cfg.get('log_level', 'INFO'))
    try:
        return _train_online(cfg, work_dir, timestamp, logger, meta, resume_from,
                             device)
    finally:
        logger.removeHandler(handler)
        handler.close()


def _run_logger(log_file, level):
    """mmseg's logger with a file handler for this run only (several runs of one
    process each get their own text log; mmcv attaches a file only the first time)."""
    logger = get_root_logger(log_level=level)
    handler = logging.FileHandler(log_file, 'w')
    handler.setFormatter(logging.Formatter(
        '%(asctime)s - %(name)s - %(levelname)s - %(message)s'))
    handler.setLevel(level)
    logger.addHandler(handler)
    return logger, handler


def build_online_model(cfg, device=None, load_from=None, logger=None,
                       quiet_init=True):
    """The adaptation method of an online config, ready to step, and its optimizer.

    What :func:`train_online` and the step profiler
    (:func:`~mmseg_ext.apis.profile.build_step_inputs`) both build: the method
    around its segmentor (``build_train_model``), its weights initialised,
    ``load_from`` loaded into the student, the method in mmcv's data-parallel
    wrapper for ``device``, and ``cfg.optimizer`` over it. Seeds nothing.

    Args:
        cfg (mmcv.Config): the run config (``model``, ``uda``, ``optimizer``).
        device (str | None): 'cuda' or 'cpu'; None takes ``cfg.device``, else
            CUDA when available. Default: None.
        load_from (str | None): source checkpoint of the student (the config's
            ``load_from`` unless the run resumes). Default: None.
        logger (logging.Logger | None): gets the checkpoint's key report and a
            line naming the loaded model; None prints the key report.
            Default: None.
        quiet_init (bool): hide mmcv's per-parameter report of
            ``init_weights``. Default: True.

    Returns:
        tuple: ``(model, optimizer)``; ``model.module`` is the method.
    """
    device = device or cfg.get('device') or ('cuda' if torch.cuda.is_available()
                                              else 'cpu')
    model = build_train_model(cfg)
    mmcv_logger = logging.getLogger('mmcv')
    level = mmcv_logger.level
    if quiet_init:
        mmcv_logger.setLevel(logging.WARNING)  # init_weights reports every parameter
    try:
        model.init_weights()
    finally:
        mmcv_logger.setLevel(level)
    if load_from:
        target = model.get_model() if hasattr(model, 'get_model') else model
        load_checkpoint(target, load_from, trusted=cfg.get('trusted_checkpoint', False),
                        logger=logger)
        if logger is not None:
            logger.info(f'source model loaded from {load_from}')
    model = build_dp(model, device, device_ids=[0] if device == 'cuda' else None)
    optimizer = build_optimizer(model, cfg.optimizer)
    return model, optimizer


def _train_online(cfg, work_dir, timestamp, logger, meta, resume_from, device):
    cfg.dump(osp.join(work_dir, 'config.py'))
    seed = cfg.get('seed', 0)
    set_random_seed(seed, deterministic=cfg.get('deterministic', False))
    meta = dict(meta or {})
    meta.update(seed=seed, config_hash=config_hash(cfg), exp_name=osp.basename(work_dir),
                git_hash=_git_hash())

    train_sets, val_sets = _build_datasets(cfg)
    model, optimizer = build_online_model(
        cfg, device, load_from=cfg.get('load_from') if resume_from is None else None,
        logger=logger)

    runner_cfg = dict(cfg.runner)
    runner_cfg.setdefault('seed', seed)
    runner = build_runner(runner_cfg, default_args=dict(
        model=model, batch_processor=None, optimizer=optimizer, work_dir=work_dir,
        logger=logger, meta=meta))
    runner.timestamp = timestamp
    runner.register_training_hooks(
        lr_config=None, optimizer_config=None,
        checkpoint_config=cfg.get('checkpoint_config'), log_config=resolve_log_config(cfg),
        timer_config=dict(type='IterTimerHook'))
    if val_sets:
        runner.register_hook(OnlineEvalHook(val_sets, **cfg.get('online_evaluation', {})),
                             priority='LOW')
    for hook_cfg in cfg.get('custom_hooks') or []:
        hook_cfg = dict(hook_cfg)
        priority = hook_cfg.pop('priority', 'NORMAL')
        runner.register_hook(build_from_cfg(hook_cfg, HOOKS), priority=priority)
    if resume_from is not None:
        runner.resume(resume_from, trusted=cfg.get('trusted_checkpoint', False))
    loaders = [_StreamSource(ds, cfg.data.get('samples_per_gpu', 1)) for ds in train_sets]
    runner.run(loaders)
    return runner


class _StreamSource:
    """What the runner needs of a loader: the dataset and the batch size."""

    def __init__(self, dataset, batch_size):
        self.dataset = dataset
        self.batch_size = int(batch_size)


def _git_hash():
    try:
        return get_git_hash(digits=10)
    except Exception:  # not a git checkout (an installed copy)
        return 'unknown'


def run_online(cfg, **kwargs):
    """Runs :func:`train_online` and returns the run's summary metrics.

    Args:
        cfg (mmcv.Config | dict | str): the run config (or its file).
        **kwargs: passed to :func:`train_online`.

    Returns:
        dict: ``mIoU`` (mean over the stream), ``rain_mIoU``, ``fps`` (frames/s of
        the adapting stream), ``adapt_fps``, ``inference_fps``,
        ``final_minus_first`` and per-domain numbers
        (:func:`~mmseg_ext.core.evaluation.summarize_run`).
    """
    if isinstance(cfg, str):
        cfg = Config.fromfile(cfg)
    elif isinstance(cfg, dict):
        cfg = Config(cfg)
    runner = train_online(cfg, **kwargs)
    return dict(summarize_run(runner.work_dir))
