"""Logging backends of a run: mmcv's logger hooks resolved from the config.

The text/JSON logger and TensorBoard (mmcv's ``TensorboardLoggerHook``, a scalar
per logged key under ``<work_dir>/tf_logs``) are listed in
``configs/_base_/default_runtime.py``. Weights & Biases is optional: with
``wandb.enabled=True`` (settable from ``--cfg-options``) mmcv's
``WandbLoggerHook`` is appended; it is never required, and enabling it without
the ``wandb`` package installed is an error raised before the run starts.
"""
import copy
import importlib.util

__all__ = ['resolve_log_config']


def resolve_log_config(cfg):
    """``cfg.log_config`` with the optional backends switched on by the config.

    Args:
        cfg (mmcv.Config): a run config with ``log_config`` and, optionally,
            ``wandb = dict(enabled=False, init_kwargs=dict(project='onda-seg'),
            log_artifact=False)``.

    Returns:
        dict: a ``log_config`` for ``runner.register_logger_hooks`` (or
        ``register_training_hooks``).

    Raises:
        ImportError: ``wandb.enabled=True`` but the ``wandb`` package is missing.
    """
    log_config = copy.deepcopy(dict(cfg.get('log_config') or {}))
    log_config.setdefault('interval', 50)
    hooks = [dict(h) for h in log_config.get('hooks', [])]
    wandb_cfg = dict(cfg.get('wandb') or {})
    if wandb_cfg.get('enabled', False):
        if importlib.util.find_spec('wandb') is None:
            raise ImportError('wandb.enabled=True but the wandb package is not '
                              'installed: `pip install wandb`, or set '
                              'wandb.enabled=False (TensorBoard and the text/JSON '
                              'logs are always written)')
        if not any(h.get('type') == 'WandbLoggerHook' for h in hooks):
            init_kwargs = dict(wandb_cfg.get('init_kwargs') or {})
            if cfg.get('name') and 'name' not in init_kwargs:
                init_kwargs['name'] = cfg.name
            hooks.append(dict(type='WandbLoggerHook', init_kwargs=init_kwargs,
                              interval=log_config['interval'], by_epoch=False,
                              log_artifact=bool(wandb_cfg.get('log_artifact', False))))
    log_config['hooks'] = hooks
    return log_config
