"""Checkpoint loading with an explicit trust switch, and atomic saving.

``weights_only=True`` stays the default (see :mod:`mmseg_ext.compat`, fix 1): a
checkpoint from the internet may hold tensors, numbers, numpy data and configs,
nothing that runs code. ``trusted=True`` unpickles everything, for one file the
user vouches for.
"""
import os
import os.path as osp
import tempfile

import torch
from mmcv.runner import CheckpointLoader
from mmcv.runner import load_state_dict as mmcv_load_state_dict

from ..compat import UntrustedCheckpointError, untrusted_message

__all__ = ['load_checkpoint_file', 'load_checkpoint', 'atomic_save',
           'UntrustedCheckpointError']


def load_checkpoint_file(filename, map_location='cpu', trusted=False):
    """Reads a checkpoint into a dict.

    Args:
        filename (str): a local path or any URI mmcv's ``CheckpointLoader`` knows.
        map_location (str): as in :func:`torch.load`. Default: 'cpu'.
        trusted (bool): unpickle arbitrary objects (can run code from the file).
            Default: False.
    """
    if not trusted:
        return CheckpointLoader.load_checkpoint(filename, map_location=map_location)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    try:
        return torch.load(filename, map_location=map_location, weights_only=False)
    except Exception as err:  # corrupt file: name it
        raise RuntimeError(f'could not read checkpoint {filename}: {err}') from err


def load_checkpoint(model, filename, map_location='cpu', strict=False, logger=None,
                    trusted=False, revise_keys=((r'^module\.', ''),)):
    """Loads a checkpoint's ``state_dict`` into ``model`` (mmcv semantics).

    Args:
        model (nn.Module): target module.
        filename (str): checkpoint path.
        map_location (str): Default: 'cpu'.
        strict (bool): fail on missing/unexpected keys. Default: False.
        logger: mmcv logger for the key report. Default: None.
        trusted (bool): see :func:`load_checkpoint_file`. Default: False.
        revise_keys (tuple): (regex, replacement) pairs applied to key names.

    Returns:
        dict: the whole checkpoint (``meta``, ``optimizer``, ...).
    """
    import re
    checkpoint = load_checkpoint_file(filename, map_location, trusted)
    state_dict = checkpoint.get('state_dict', checkpoint)
    for pattern, repl in revise_keys:
        state_dict = {re.sub(pattern, repl, k): v for k, v in state_dict.items()}
    mmcv_load_state_dict(getattr(model, 'module', model), state_dict, strict, logger)
    return checkpoint


def atomic_save(obj, filename):
    """``torch.save`` to a temporary file in the same folder, then rename.

    A crash mid-write leaves the previous file (or none), never half of one.
    """
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.pth', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
