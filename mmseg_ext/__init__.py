"""mmseg_ext: the project's extension of mmsegmentation 0.30.

Importing it applies the compatibility fixes of :mod:`mmseg_ext.compat` and
registers every component into mmseg's and mmcv's registries.
"""
from . import compat  # noqa: F401  (first: patches apply before anything else)
from . import apis, core, datasets, models  # noqa: F401

__version__ = '0.1.0'
__all__ = ['__version__', 'apis', 'compat', 'core', 'datasets', 'models']
