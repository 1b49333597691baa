from .backbones import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .uda import *  # noqa: F401,F403
from .builder import UDA, build_train_model  # noqa: F401

__all__ = ['UDA', 'build_train_model']
