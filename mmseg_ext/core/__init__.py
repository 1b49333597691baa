from . import evaluation  # noqa: F401  (registers OnlineEvalHook in mmcv HOOKS)
from .atomic_runner import AtomicIterBasedRunner
from .checkpoint import (UntrustedCheckpointError, atomic_save, load_checkpoint,
                         load_checkpoint_file)
from .evaluation import OnlineEvalHook, StreamAccuracy
from .log_backends import resolve_log_config
from .optimizer import ParamWiseOptimizerConstructor

__all__ = ['AtomicIterBasedRunner', 'ParamWiseOptimizerConstructor',
           'UntrustedCheckpointError', 'atomic_save', 'load_checkpoint',
           'load_checkpoint_file', 'evaluation', 'OnlineEvalHook', 'StreamAccuracy',
           'resolve_log_config']
