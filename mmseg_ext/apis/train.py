"""Supervised source training of a segmentor (the model online runs start from).

Built on mmseg 0.30 / mmcv: mmseg's data loaders, EvalHook (validation mIoU) and
data-parallel wrappers, mmcv's optimizer builder (with
:class:`~mmseg_ext.core.ParamWiseOptimizerConstructor`) and an iteration runner
(:class:`~mmseg_ext.core.AtomicIterBasedRunner` by default: atomic checkpoints,
``weights_only`` loading unless ``trusted_checkpoint``). Unlike mmseg's
``train_segmentor`` it decides the eval hook's ``by_epoch`` from the runner class
(not from its name), works with DDP on CPU (gloo), can freeze the encoder
(``freeze_encoder=True``: decoder-only fine-tuning) and returns the runner.
"""
import contextlib
import copy
import inspect
import os
import os.path as osp
import time

import torch
from mmcv.cnn.utils import revert_sync_batchnorm
from mmcv.runner import (HOOKS, RUNNERS, EpochBasedRunner, build_optimizer,
                         build_runner, get_dist_info)
from mmcv.utils import build_from_cfg, get_git_hash
from mmseg import __version__ as mmseg_version
from mmseg.apis import init_random_seed, set_random_seed
from mmseg.core import DistEvalHook, EvalHook
from mmseg.datasets import build_dataloader, build_dataset
from mmseg.utils import (build_ddp, build_dp, collect_env, find_latest_checkpoint,
                         get_device, get_root_logger)

from ..core.log_backends import resolve_log_config
from ..models import build_train_model
from ..models.builder import check_uda_cfg
from ..models.utils import set_trainable
from .dist import CPUDistributedDataParallel, init_dist_env
from .config import check_data_roots, check_section_keys, config_text, write_config
from .workdir import RunGuard

__all__ = ['freeze_encoder', 'init_launcher', 'train_segmentor', 'train_source',
           'check_source_cfg']


def freeze_encoder(model):
    """Freezes the encoder (``backbone``) of a segmentor for decoder-only training.

    The ``'encoder'`` mode of :func:`~mmseg_ext.models.utils.set_trainable`: a
    staged backbone (``MixTransformer``) freezes all its modules, which also keeps
    them in eval mode while training; any other backbone gets
    ``requires_grad=False`` on its parameters.

    Args:
        model (nn.Module): a segmentor (or a UDA decorator holding one as ``model``).

    Returns:
        int: the number of parameters frozen.
    """
    segmentor = getattr(model, 'model', model)
    set_trainable(segmentor, 'encoder', scope='backbone', key='freeze_encoder')
    return sum(p.numel() for p in segmentor.backbone.parameters())


def init_launcher(launcher, dist_params=None):
    """Initialises the process group for ``--launcher`` (gloo when CUDA is absent).

    Args:
        launcher (str): 'none', 'pytorch' or 'slurm'.
        dist_params (dict, optional): ``init_dist`` arguments, e.g.
            ``dict(backend='nccl')``. Default: None.

    Returns:
        bool: whether the run is distributed.
    """
    if launcher not in ('none', 'pytorch', 'slurm'):
        raise ValueError(f"launcher must be 'none', 'pytorch' or 'slurm', got {launcher!r}")
    if launcher == 'none':
        return False
    # mmcv's init_dist on GPUs; on CPU the same env contract with gloo.
    return init_dist_env(launcher, **dict(dist_params or {}))


def _wrap(model, cfg, distributed):
    if not distributed:
        return build_dp(revert_sync_batchnorm(model), cfg.device, device_ids=cfg.gpu_ids)
    if cfg.device == 'cpu':
        return CPUDistributedDataParallel(
            model, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return build_ddp(model, cfg.device, device_ids=[int(os.environ['LOCAL_RANK'])],
                     broadcast_buffers=False,
                     find_unused_parameters=cfg.get('find_unused_parameters', False))


def train_segmentor(model, dataset, cfg, distributed=False, validate=False,
                    timestamp=None, meta=None):
    """Trains ``model`` on ``dataset`` as ``cfg`` says (mmseg's recipe).

    Args:
        model (nn.Module): a segmentor, weights initialised.
        dataset (Dataset | list[Dataset]): training set(s), one per workflow phase.
        cfg (mmcv.Config): needs ``data``, ``optimizer``, ``optimizer_config``,
            ``lr_config``, ``runner``, ``checkpoint_config``, ``log_config``,
            ``work_dir``, ``workflow``; optional ``evaluation``, ``custom_hooks``,
            ``resume_from``, ``load_from``, ``freeze_encoder``, ``trusted_checkpoint``.
        distributed (bool): DDP (the process group must be initialised). Default: False.
        validate (bool): evaluate on ``data.val`` every ``evaluation.interval``.
            Default: False.
        timestamp (str, optional): name of the log files. Default: None.
        meta (dict, optional): saved in the checkpoints. Default: None.

    Returns:
        mmcv.runner.BaseRunner: the runner after training.
    """
    logger = get_root_logger(log_level=cfg.log_level)
    cfg.device = cfg.get('device') or get_device()
    cfg.gpu_ids = cfg.get('gpu_ids') or [0]
    if cfg.get('runner') is None:
        raise KeyError('train_segmentor: the config has no runner section, e.g. '
                       "runner = dict(type='AtomicIterBasedRunner', max_iters=40000)")
    if cfg.get('freeze_encoder', False):
        logger.info(f'freeze_encoder: {freeze_encoder(model)} encoder parameters frozen')

    datasets = dataset if isinstance(dataset, (list, tuple)) else [dataset]
    loader_cfg = dict(num_gpus=len(cfg.gpu_ids), dist=distributed, seed=cfg.seed,
                      drop_last=True)
    loader_cfg.update({k: v for k, v in cfg.data.items() if k not in (
        'train', 'val', 'test', 'train_dataloader', 'val_dataloader',
        'test_dataloader')})
    train_loader_cfg = {**loader_cfg, **cfg.data.get('train_dataloader', {})}
    data_loaders = [build_dataloader(ds, **train_loader_cfg) for ds in datasets]

    model = _wrap(model, cfg, distributed)
    optimizer = build_optimizer(model, cfg.optimizer)
    runner_cfg = copy.deepcopy(cfg.runner)
    runner_cls = RUNNERS.get(runner_cfg['type'])
    if runner_cls is None:
        raise KeyError(f"train_segmentor: unknown runner type {runner_cfg['type']!r}")
    if 'trusted_checkpoint' in inspect.signature(runner_cls).parameters:
        runner_cfg.setdefault('trusted_checkpoint', cfg.get('trusted_checkpoint', False))
    runner = build_runner(runner_cfg, default_args=dict(
        model=model, batch_processor=None, optimizer=optimizer, work_dir=cfg.work_dir,
        logger=logger, meta=meta))
    runner.register_training_hooks(cfg.lr_config, cfg.optimizer_config,
                                   cfg.checkpoint_config, resolve_log_config(cfg),
                                   cfg.get('momentum_config', None))
    runner.timestamp = timestamp

    if validate:
        val_dataset = build_dataset(cfg.data.val, dict(test_mode=True))
        val_loader_cfg = {**loader_cfg, 'samples_per_gpu': 1, 'shuffle': False,
                          **cfg.data.get('val_dataloader', {})}
        val_dataloader = build_dataloader(val_dataset, **val_loader_cfg)
        eval_cfg = dict(cfg.get('evaluation', {}))
        eval_cfg['by_epoch'] = issubclass(runner_cls, EpochBasedRunner)
        hook = DistEvalHook if distributed else EvalHook
        runner.register_hook(hook(val_dataloader, **eval_cfg), priority='LOW')

    for hook_cfg in cfg.get('custom_hooks', None) or []:
        hook_cfg = dict(hook_cfg)
        priority = hook_cfg.pop('priority', 'NORMAL')
        runner.register_hook(build_from_cfg(hook_cfg, HOOKS), priority=priority)

    if cfg.get('resume_from') is None and cfg.get('auto_resume'):
        cfg.resume_from = find_latest_checkpoint(cfg.work_dir)
    if cfg.get('resume_from'):
        runner.resume(cfg.resume_from)
    elif cfg.get('load_from'):
        runner.load_checkpoint(cfg.load_from)
    runner.run(data_loaders, cfg.workflow)
    return runner


def check_source_cfg(cfg):
    """Raises a clear error for a source config that cannot run, before building.

    Checks: a ``work_dir``; the ``runner`` type and keys and the ``uda`` keys
    (with "did you mean" hints); every ``data_root`` exists; ``resume_from`` /
    ``load_from`` exist.
    """
    if not cfg.get('work_dir'):
        raise KeyError('train_source: the config has no work_dir (set it or pass '
                       '--work-dir)')
    runner_cfg = cfg.get('runner')
    if runner_cfg is None:
        raise KeyError('train_source: the config has no runner section, e.g. '
                       "runner = dict(type='AtomicIterBasedRunner', max_iters=40000)")
    runner_cls = RUNNERS.get(runner_cfg.get('type'))
    if runner_cls is None:
        raise KeyError(f"train_source: unknown runner type {runner_cfg.get('type')!r}")
    check_section_keys(runner_cfg, runner_cls, 'runner',
                       skip=('model', 'batch_processor', 'optimizer', 'work_dir',
                             'logger', 'meta'))
    if cfg.get('uda') is not None:
        check_uda_cfg({k: v for k, v in cfg.uda.items() if k != 'model'})
    check_data_roots(cfg.get('data') or {})
    for key in ('resume_from', 'load_from'):
        path = cfg.get(key)
        if path and '://' not in path and not osp.isfile(path):
            raise FileNotFoundError(f'{key} checkpoint {path} does not exist')


def train_source(cfg, distributed=False, validate=True, seed=None, deterministic=False,
                 config_name='config.py'):
    """Source training from a config: work dir, logs, seed, model, data, training.

    Args:
        cfg (mmcv.Config): the run's config (``work_dir`` set).
        distributed (bool): DDP (process group initialised by the caller).
            Default: False.
        validate (bool): validation mIoU during training. Default: True.
        seed (int, optional): random seed; None takes ``cfg.seed`` or a random one.
            Default: None.
        deterministic (bool): deterministic cuDNN. Default: False.
        config_name (str): name of the config; it is written as Python into the
            work dir under this name with a ``.py`` extension. Default: 'config.py'.

    Returns:
        mmcv.runner.BaseRunner: the runner after training.
    """
    check_source_cfg(cfg)
    ckpt_dir = (cfg.get('checkpoint_config') or {}).get('out_dir')
    # rank 0 holds the work dir (lock, status.json, log file, the config)
    guard = RunGuard(cfg.work_dir, extra_dirs=[ckpt_dir] if ckpt_dir else []) \
        if get_dist_info()[0] == 0 else contextlib.nullcontext()
    with guard:
        if isinstance(guard, RunGuard):
            write_config(cfg, osp.join(cfg.work_dir, osp.splitext(config_name)[0] + '.py'))
        text = config_text(cfg._cfg_dict.to_dict())  # that file's text, for checkpoints
        timestamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
        logger = guard.open_log(osp.join(cfg.work_dir, f'{timestamp}.log'),
                                cfg.log_level) if isinstance(guard, RunGuard) \
            else get_root_logger(log_level=cfg.log_level)
        return _train_source(cfg, logger, text, timestamp, distributed, validate,
                             seed, deterministic, config_name)


def _train_source(cfg, logger, cfg_text, timestamp, distributed, validate, seed,
                  deterministic, config_name):
    if cfg.get('cudnn_benchmark', False):
        torch.backends.cudnn.benchmark = True
    cfg.device = cfg.get('device') or get_device()
    if distributed:
        cfg.gpu_ids = list(range(get_dist_info()[1]))
    meta = dict(env_info='\n'.join(f'{k}: {v}' for k, v in collect_env().items()))
    seed = init_random_seed(cfg.get('seed') if seed is None else seed, device=cfg.device)
    set_random_seed(seed, deterministic=deterministic)
    cfg.seed = seed
    meta.update(seed=seed, exp_name=config_name)
    logger.info(f'Set random seed to {seed}, deterministic: {deterministic}')

    model = build_train_model(cfg, train_cfg=cfg.get('train_cfg'),
                              test_cfg=cfg.get('test_cfg'))
    model.init_weights()
    datasets = [build_dataset(cfg.data.train)]
    if len(cfg.workflow) == 2:
        val_cfg = copy.deepcopy(cfg.data.val)
        val_cfg.pipeline = cfg.data.train.pipeline
        datasets.append(build_dataset(val_cfg))
    classes, palette = datasets[0].CLASSES, datasets[0].PALETTE
    if cfg.get('checkpoint_config') is not None:
        cfg.checkpoint_config.meta = dict(
            mmseg_version=f'{mmseg_version}+{get_git_hash()[:7]}',
            config=cfg_text, CLASSES=classes, PALETTE=palette)
        meta.update(cfg.checkpoint_config.meta)
    model.CLASSES, model.PALETTE = classes, palette
    return train_segmentor(model, datasets, cfg, distributed=distributed,
                           validate=validate, timestamp=timestamp, meta=meta)
