from .checkpoint import (UntrustedCheckpointError, atomic_save, load_checkpoint,
                         load_checkpoint_file)

__all__ = ['UntrustedCheckpointError', 'atomic_save', 'load_checkpoint',
           'load_checkpoint_file']
