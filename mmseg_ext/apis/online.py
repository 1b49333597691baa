"""Old import path of the online run functions, kept for ``mmseg_ext.apis.sweep``.

The online run-level functions moved to :mod:`online_src.apis.online` (they
depend on ``online_src``, which depends on ``mmseg_ext``). This module only
forwards attribute access there, lazily, so that ``import mmseg_ext`` never loads
``online_src``; new code imports from :mod:`online_src.apis.online` (and the pure
config checks from :mod:`mmseg_ext.apis.config`). It is the one exception of the
import-graph test (``tests/test_import_graph.py``) and goes once ``sweep.py``
imports from the new place.
"""
from .config import config_hash, is_online_cfg  # noqa: F401


def __getattr__(name):
    from online_src.apis import online
    return getattr(online, name)
