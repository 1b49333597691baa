"""Logging backends of a run: mmcv's logger hooks resolved from the config.

The text/JSON logger and TensorBoard (:class:`StreamTensorboardLoggerHook`, mmcv's
``TensorboardLoggerHook`` stepping by stream frames, a scalar per logged key under
``<work_dir>/tf_logs``) are listed in ``configs/_base_/default_runtime.py``. Weights & Biases is optional: with
``wandb.enabled=True`` (settable from ``--cfg-options``) mmcv's
``WandbLoggerHook`` is appended; it is never required, and enabling it without
the ``wandb`` package installed is an error raised before the run starts.
"""
import copy
import importlib.util

from mmcv.runner import HOOKS
from mmcv.runner.hooks import TensorboardLoggerHook

__all__ = ['resolve_log_config', 'StreamTensorboardLoggerHook']


@HOOKS.register_module()
class StreamTensorboardLoggerHook(TensorboardLoggerHook):
    """mmcv's TensorBoard logger whose step is the number of frames streamed.

    On an online run (a runner with ``frames_done``) every scalar is written at
    step = frames streamed so far: a frame's training scalars (loss terms,
    pseudo-label weight, lr, ... every ``interval`` frames, averaged over them) at
    its 1-based position in the stream, the held-out evaluation after a visit at
    the frames streamed by then, and the evaluation before the stream at step 0
    (read from the run's :class:`~mmseg_ext.core.evaluation.OnlineEvalHook`,
    which runs first). On any other runner it is mmcv's hook (step = iteration).

    Args:
        **kwargs: :class:`mmcv.runner.hooks.TensorboardLoggerHook` arguments
            (``interval``, ``ignore_last``, ``by_epoch``, ``log_dir``).
    """

    def get_iter(self, runner, inner_iter=False):
        frames = getattr(runner, 'frames_done', None)
        return super().get_iter(runner, inner_iter) if frames is None else int(frames)

    def before_run(self, runner):
        super().before_run(runner)
        if getattr(runner, 'frames_done', None) != 0:
            return  # not a stream, or resumed: the initial evaluation is logged
        from .evaluation import OnlineEvalHook
        for hook in runner.hooks:
            if isinstance(hook, OnlineEvalHook) and hook.table.rows:
                row = hook.table.rows[0]
                for key, value in row.items():
                    if isinstance(value, float) and '.IoU.' not in key:
                        self.writer.add_scalar(f'val/{key}', value, 0)


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
