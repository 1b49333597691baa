from . import evaluation  # noqa: F401  (registers OnlineEvalHook in mmcv HOOKS)
from .atomic_runner import AtomicIterBasedRunner
from .batch import unwrap_batch
from .checkpoint import (UntrustedCheckpointError, atomic_save, load_checkpoint,
                         load_checkpoint_file)
from .evaluation import OnlineEvalHook, StreamAccuracy
from .fileio import atomic_write
from .log_backends import StreamTensorboardLoggerHook, resolve_log_config
from .optimizer import ParamWiseOptimizerConstructor

__all__ = ['AtomicIterBasedRunner', 'ParamWiseOptimizerConstructor',
           'UntrustedCheckpointError', 'atomic_save', 'load_checkpoint',
           'load_checkpoint_file', 'evaluation', 'OnlineEvalHook', 'StreamAccuracy',
           'resolve_log_config', 'StreamTensorboardLoggerHook', 'atomic_write',
           'unwrap_batch']
