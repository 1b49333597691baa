"""Online adaptation runs: build everything from a config and stream.

:func:`train_online` is what ``tools/train.py`` calls for a config whose runner is
the :class:`~online_src.OnlineRunner`: it checks the config (every section's keys,
data roots, checkpoints; before anything heavy is built and before the work dir
is touched), builds the adaptation method around its segmentor and its
optimizer (:func:`build_online_model`, shared with the step profiler; a
``load_from`` of another model size fails here), takes the work dir
(:class:`~mmseg_ext.apis.workdir.RunGuard`: lock, unfinished-run check,
``--overwrite``, ``status.json``), builds the datasets (source first), the runner
and its hooks, resumes a run if asked, and streams. :func:`run_online` does the
same and returns the run's summary metrics (the hyper-parameter search's
objective).
"""
import logging
import os.path as osp
import time
import warnings

import torch
from mmcv.runner import HOOKS, CheckpointHook, Hook, build_optimizer, build_runner
from mmcv.utils import Config, build_from_cfg, get_git_hash
from mmseg.apis import set_random_seed
from mmseg.datasets import build_dataset
from mmseg.utils import build_dp, get_root_logger

from mmseg_ext.apis.config import (HASH_IGNORED, check_data_roots, check_load_from,
                                   check_section_keys, config_hash, is_online_cfg,
                                   write_config)
from mmseg_ext.apis.workdir import (RunGuard, check_resume_config, check_unfinished,
                                    flat_config)
from mmseg_ext.core.checkpoint import load_checkpoint, load_checkpoint_file
from mmseg_ext.core.evaluation import OnlineEvalHook, summarize_run
from mmseg_ext.core.fileio import atomic_copy
from mmseg_ext.core.log_backends import resolve_log_config
from mmseg_ext.models import build_train_model
from mmseg_ext.models.builder import check_uda_cfg

from .. import STORM_ORDER, OnlineRunner, check_domain_order
from ..controller import DEPRECATED_RUNNER_KEYS, OnlineController, resolve_controller_cfg

__all__ = ['train_online', 'run_online', 'build_online_model', 'check_online_cfg',
           'FINISHED_FILE', 'RUN_FILES']

FINISHED_FILE = 'summary.json'
RUN_FILES = ('summary.json', 'results.csv', 'results.json', 'fps.npy',
             'miou_stream.png', 'latest.pth')
def _is_source(dataset_cfg):
    from mmseg.datasets import DATASETS
    cls = DATASETS.get(dataset_cfg.get('type', ''))
    return cls is not None and any(c.__name__ == 'SourceDataset' for c in cls.__mro__)


def check_online_cfg(cfg, resume_from=None, overwrite=False):
    """Raises a clear error for a config that cannot run, before building anything.

    Checks: the runner is ``OnlineRunner``; the keys of ``runner``, ``uda``,
    ``online_evaluation`` and ``checkpoint_config`` (with "did you mean" hints);
    ``data.train`` is a list whose first entry is a ``SourceDataset`` and the
    rest name their domains; every name of ``runner.domain_order`` is one of
    them; every ``data_root`` exists; a ``work_dir`` is set and does not hold a
    finished run (unless ``overwrite``); ``resume_from`` and ``load_from`` exist.
    The work dir's lock and unfinished runs are checked by :func:`train_online`.
    """
    if not is_online_cfg(cfg):
        raise ValueError(f"train_online needs runner.type='OnlineRunner', got "
                         f"{cfg.get('runner', {}).get('type')!r}")
    check_section_keys(cfg.runner, OnlineRunner, 'runner',
                       skip=('model', 'batch_processor', 'optimizer', 'work_dir',
                             'logger', 'meta'),
                       extra=DEPRECATED_RUNNER_KEYS)
    with warnings.catch_warnings():  # old keys are warned about when the runner is built
        warnings.simplefilter('ignore', FutureWarning)
        OnlineController(**resolve_controller_cfg(
            cfg.runner.get('controller'),
            {k: v for k, v in cfg.runner.items() if k in DEPRECATED_RUNNER_KEYS}))
    if cfg.get('uda') is not None:
        check_uda_cfg({k: v for k, v in cfg.uda.items() if k != 'model'})
    check_section_keys(cfg.get('online_evaluation') or {}, OnlineEvalHook,
                       'online_evaluation', skip=('datasets',))
    check_section_keys(cfg.get('checkpoint_config') or {}, CheckpointHook,
                       'checkpoint_config', extra=('filename_tmpl', 'meta', 'create_symlink'))
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
    order = cfg.runner.get('domain_order', STORM_ORDER)
    check_domain_order(order, names, 'target datasets of data.train')
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
    check_data_roots(cfg.data)


def _build_datasets(cfg):
    train = [build_dataset(c) for c in cfg.data.train]
    val = [build_dataset(c, dict(test_mode=True)) for c in cfg.data.get('val') or []]
    return train, val


def train_online(cfg, timestamp=None, meta=None, resume_from=None, overwrite=False,
                 device=None, force_resume=False, command=None):
    """Builds and runs one online adaptation run.

    Everything that can be checked without the datasets is checked before the
    work dir is touched: the config (:func:`check_online_cfg`), the method and
    its ``load_from`` checkpoint (model size), the resume checkpoint's config.
    Then the work dir is taken (:class:`~mmseg_ext.apis.workdir.RunGuard`): a
    busy work dir (another live run) and an unfinished one (checkpoints without
    ``summary.json``, unless resuming or overwriting) are refused; with
    ``overwrite`` the old run is moved aside and deleted after the first frame.

    Args:
        cfg (mmcv.Config): the run's config (online layout, see
            docs/interfaces.md); ``cfg.work_dir`` must be set.
        timestamp (str | None): names the log files. Default: now.
        meta (dict | None): extra metadata saved in checkpoints. Default: None.
        resume_from (str | None): a checkpoint of this config to continue from
            (also ``cfg.resume_from``); from another work dir, its evaluation
            rows are carried over. Default: None.
        overwrite (bool): run again in a work dir holding a finished or
            unfinished run (also ``cfg.overwrite``). Default: False.
        device (str | None): 'cuda' or 'cpu'; None picks CUDA when available
            (also ``cfg.device``). Default: None.
        force_resume (bool): resume although the checkpoint's config differs in
            data locations (``data_root``, ``img_dir``, ...). Default: False.
        command (str | None): this run's command line, printed in the commands
            that resume or replace an unfinished run. Default: None.

    Returns:
        OnlineRunner: the runner after the stream.
    """
    resume_from = resume_from or cfg.get('resume_from')
    overwrite = overwrite or bool(cfg.get('overwrite', False))
    check_online_cfg(cfg, resume_from, overwrite)
    work_dir = osp.abspath(cfg.work_dir)
    meta = dict(meta or {})
    meta.update(seed=cfg.get('seed', 0), config_hash=config_hash(cfg),
                config_flat=flat_config(cfg, HASH_IGNORED),
                exp_name=osp.basename(work_dir), git_hash=_git_hash())
    logger = get_root_logger(log_level=cfg.get('log_level', 'INFO'))
    resume_state = None
    if resume_from is not None:
        ckpt = load_checkpoint_file(resume_from, 'cpu',
                                    cfg.get('trusted_checkpoint', False))
        check_resume_config(resume_from, ckpt.get('meta', {}), meta['config_hash'],
                            meta['config_flat'], force_resume, logger)
        resume_state = ckpt.get('online', {})
        del ckpt
    set_random_seed(meta['seed'], deterministic=cfg.get('deterministic', False))
    model, optimizer = build_online_model(
        cfg, device, load_from=cfg.get('load_from') if resume_from is None else None,
        logger=logger)

    def check(folder):
        if not overwrite and resume_from is None:
            check_unfinished(folder, command, FINISHED_FILE, RUN_FILES)

    ckpt_dir = (cfg.get('checkpoint_config') or {}).get('out_dir')
    with RunGuard(work_dir, overwrite and resume_from is None, check,
                  [ckpt_dir] if ckpt_dir else []) as guard:
        if resume_from is not None:
            _carry_rows(resume_from, work_dir, resume_state)
        timestamp = timestamp or time.strftime('%Y%m%d_%H%M%S', time.localtime())
        logger = guard.open_log(osp.join(work_dir, f'{timestamp}.log'),
                                cfg.get('log_level', 'INFO'))
        return _train_online(cfg, work_dir, timestamp, logger, meta, resume_from,
                             model, optimizer, guard)


def _carry_rows(resume_from, work_dir, resume_state):
    """Copies the evaluation rows beside ``resume_from`` into a new ``work_dir``.

    The resumed run keeps the rows of the evaluations before the checkpoint;
    resuming into another work dir without them would silently lose them.
    """
    src_dir = osp.dirname(osp.abspath(resume_from))
    if src_dir == work_dir or osp.isfile(osp.join(work_dir, 'results.json')):
        return
    count = (resume_state.get('hooks') or {}).get('OnlineEvalHook', {}).get('count', 0)
    if not osp.isfile(osp.join(src_dir, 'results.json')):
        if count:
            raise FileNotFoundError(
                f'cannot resume {resume_from} into {work_dir}: the {count} evaluation '
                f'row(s) before it (results.json) are not beside the checkpoint in '
                f'{src_dir}; copy that results.json into {work_dir}, or resume in the '
                f"checkpoint's own work dir")
        return
    for name in ('results.json', 'results.csv'):
        if osp.isfile(osp.join(src_dir, name)):
            atomic_copy(osp.join(src_dir, name), osp.join(work_dir, name))


class _StartedHook(Hook):
    """Tells the run guard once the first frame is done (or the stream ended)."""

    def __init__(self, guard):
        self.guard = guard

    def after_train_iter(self, runner):
        self.guard.started()

    def after_run(self, runner):
        self.guard.started()


def build_online_model(cfg, device=None, load_from=None, logger=None,
                       quiet_init=True):
    """The adaptation method of an online config, ready to step, and its optimizer.

    What :func:`train_online` and the step profiler
    (:func:`~online_src.apis.profile.build_step_inputs`) both build: the method
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


def _train_online(cfg, work_dir, timestamp, logger, meta, resume_from, model,
                  optimizer, guard):
    write_config(cfg, osp.join(work_dir, 'config.py'))  # loads back equal, or raises
    seed = cfg.get('seed', 0)
    train_sets, val_sets = _build_datasets(cfg)

    runner_cfg = dict(cfg.runner)
    if runner_cfg.get('seed') is None:  # the schema's None: the run's global seed
        runner_cfg['seed'] = seed
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
    bar = dict(cfg.get('progress_bar') or {})
    if bar.get('enabled', False):
        desc = bar.get('desc') or osp.basename(osp.normpath(work_dir))
        runner.register_hook(build_from_cfg(dict(type='ProgressBarHook', desc=desc),
                                            HOOKS), priority='VERY_LOW')
    for hook_cfg in cfg.get('custom_hooks') or []:
        hook_cfg = dict(hook_cfg)
        priority = hook_cfg.pop('priority', 'NORMAL')
        runner.register_hook(build_from_cfg(hook_cfg, HOOKS), priority=priority)
    runner.register_hook(_StartedHook(guard), priority='LOWEST')
    if resume_from is not None:
        runner.resume(resume_from, trusted=cfg.get('trusted_checkpoint', False),
                      check_config=False)
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
