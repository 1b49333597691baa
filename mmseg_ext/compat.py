"""Compatibility fixes for running mmcv-full 1.7.2 / mmseg 0.30 on torch 2.14 and numpy 2.

Every fix the stack needs lives here, one function each with the reason, and is
applied once on ``import mmseg_ext`` (:func:`apply_all`). Each is idempotent and
tested on CPU in ``tests/test_compat.py``.

Found and fixed:

1. ``torch.load`` defaults to ``weights_only=True`` since torch 2.6 and rejects mmcv
   checkpoints whose ``meta`` holds numpy arrays, numpy dtypes/scalars or mmcv's
   ``ConfigDict``. We keep ``weights_only=True`` and allow exactly those safe types
   (:func:`allow_checkpoint_types`). Anything else (a pickled callable, an arbitrary
   class) is refused with :class:`UntrustedCheckpointError`, which names the file and
   the offending global; full unpickling happens only through
   :func:`mmseg_ext.core.checkpoint.load_checkpoint` with ``trusted=True``.
2. ``mmcv.parallel._functions.Scatter`` passes an ``int`` GPU id to torch's
   ``_get_stream``, which now reads ``device.type``: every single-GPU
   ``MMDataParallel`` run crashed at the first scatter (:func:`fix_scatter_stream`).
3. numpy 2 removed the ``np.float``/``np.int``/``np.bool``/``np.object`` aliases;
   ``mmcv/ops/pixel_group.py`` still uses ``np.float`` (:func:`restore_numpy_aliases`).
4. mmseg's ``build_dataloader`` defaults ``persistent_workers=True``, which torch
   rejects with ``workers_per_gpu=0`` ("persistent_workers option needs num_workers > 0"),
   the setting of every CPU run here (:func:`fix_persistent_workers`).
5. numpy 2.4 removed ``np.in1d``; cityscapesscripts 2.3.0's official evaluator
   (``evalPixelLevelSemanticLabeling.evaluatePair``, which mmseg's
   ``metric='cityscapes'`` calls) still uses it for the instance-level and pixel
   accuracy scores (:func:`restore_numpy_in1d`).
6. Pillow >= 12 no longer takes a numpy array in ``Image.putpalette`` ("only integer
   scalar arrays can be converted to a scalar index" when saving); mmseg's
   ``CityscapesDataset.results2img`` (``format_results``, ``metric='cityscapes'``)
   passes one, so no Cityscapes-format prediction could be written
   (:func:`fix_putpalette_ndarray`).

Checked and needing no fix: yapf >= 0.40.2 dropped ``FormatCode(verify=...)``;
mmcv 1.7.2 already branches on the yapf version (``Config.pretty_text`` works with the
pinned yapf 0.43.0, tested).
"""
import functools
import pickle

import numpy as np
import torch

_APPLIED = set()


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects that cannot be loaded without running its code."""


def _once(fn):
    @functools.wraps(fn)
    def wrapper():
        if fn.__name__ not in _APPLIED:
            fn()
            _APPLIED.add(fn.__name__)
    return wrapper


def _numpy_safe_globals():
    """numpy objects that appear in checkpoint metadata and are plain data."""
    from numpy._core import multiarray
    safe = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    # Each concrete dtype class (Float64DType, Int64DType, ...) is pickled by name.
    safe += [getattr(np.dtypes, name) for name in dir(np.dtypes)
             if name.endswith('DType')]
    return safe


@_once
def allow_checkpoint_types():
    """Fix 1: let ``weights_only`` loading accept numpy arrays, dtypes and scalars.

    (mmcv's ``ConfigDict`` cannot be allowed this way: torch's weights-only
    unpickler only fills plain dicts. Configs go into checkpoints as text, as mmseg
    does with ``meta['config'] = cfg.pretty_text``.)
    """
    torch.serialization.add_safe_globals(_numpy_safe_globals())
    _wrap_mmcv_loader_errors()


def _wrap_mmcv_loader_errors():
    """Turn torch's refusal into :class:`UntrustedCheckpointError` naming the file."""
    from mmcv.runner.checkpoint import CheckpointLoader
    original = CheckpointLoader.load_checkpoint.__func__

    def load_checkpoint(cls, filename, map_location=None, logger=None):
        try:
            return original(cls, filename, map_location, logger)
        except pickle.UnpicklingError as err:
            if isinstance(err, UntrustedCheckpointError):
                raise
            raise UntrustedCheckpointError(untrusted_message(filename, err)) from None

    CheckpointLoader.load_checkpoint = classmethod(load_checkpoint)


def untrusted_message(filename, err):
    """The sentence shown when a checkpoint needs full unpickling."""
    first = str(err).strip().splitlines()
    detail = next((line.strip() for line in first if 'GLOBAL' in line or 'global' in line),
                  first[0] if first else '')
    return (f'refusing to load checkpoint {filename!s}: it contains objects other '
            f'than tensors, numbers, strings and numpy arrays ({detail}). Unpickling '
            f'them could run code from the file. If you trust its origin, load it '
            f'with trusted=True (config key `trusted_checkpoint=True`, or '
            f'--trusted-checkpoint on the command line).')


@_once
def fix_scatter_stream():
    """Fix 2: give torch's ``_get_stream`` the ``torch.device`` it now expects."""
    import mmcv.parallel._functions as functions
    from torch.nn.parallel._functions import _get_stream as torch_get_stream

    def _get_stream(device):
        if isinstance(device, int):
            device = torch.device('cuda', device) if device >= 0 else torch.device('cpu')
        return torch_get_stream(device)

    functions._get_stream = _get_stream


@_once
def restore_numpy_aliases():
    """Fix 3: the builtin-type aliases numpy 2 removed and mmcv still uses."""
    for name, value in (('float', float), ('int', int), ('bool', bool),
                        ('object', object), ('long', int)):
        if name not in np.__dict__:
            setattr(np, name, value)


def _in1d(ar1, ar2, assume_unique=False, invert=False, **kwargs):
    """numpy 1's ``in1d``: ``isin`` on the flattened ``ar1`` (a 1-D result)."""
    return np.isin(np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert,
                   **kwargs)


@_once
def restore_numpy_in1d():
    """Fix 5: ``np.in1d`` for cityscapesscripts' evaluator (flattened ``np.isin``)."""
    if 'in1d' not in np.__dict__:
        np.in1d = _in1d


@_once
def fix_putpalette_ndarray():
    """Fix 6: ``Image.putpalette`` turns a numpy palette into the bytes Pillow wants."""
    from PIL import Image
    original = Image.Image.putpalette

    @functools.wraps(original)
    def putpalette(self, data, rawmode='RGB'):
        if isinstance(data, np.ndarray):
            data = np.asarray(data, dtype=np.uint8).tobytes()
        return original(self, data, rawmode)

    Image.Image.putpalette = putpalette


@_once
def fix_persistent_workers():
    """Fix 4: ``persistent_workers`` only when there are workers to persist."""
    import mmseg.datasets
    import mmseg.datasets.builder as builder
    import mmseg.apis.train
    original = builder.build_dataloader

    @functools.wraps(original)
    def build_dataloader(dataset, samples_per_gpu, workers_per_gpu, *args, **kwargs):
        if workers_per_gpu == 0:
            kwargs['persistent_workers'] = False
        return original(dataset, samples_per_gpu, workers_per_gpu, *args, **kwargs)

    # Rebind in every module that imported the name.
    for module in (builder, mmseg.datasets, mmseg.apis.train):
        if getattr(module, 'build_dataloader', None) is original:
            module.build_dataloader = build_dataloader


def apply_all():
    """Applies every fix above (idempotent)."""
    allow_checkpoint_types()
    fix_scatter_stream()
    restore_numpy_aliases()
    restore_numpy_in1d()
    fix_putpalette_ndarray()
    fix_persistent_workers()


apply_all()
