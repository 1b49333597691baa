"""Checkpoint loading with an explicit trust switch, and atomic saving.

``weights_only=True`` stays the default (see :mod:`mmseg_ext.compat`, fix 1): a
checkpoint from the internet may hold tensors, numbers, numpy data and configs,
nothing that runs code. ``trusted=True`` unpickles everything, for one file the
user vouches for.
"""
import os
import os.path as osp

import torch
from mmcv.runner import CheckpointLoader
from mmcv.runner import load_state_dict as mmcv_load_state_dict
from prettytable import PrettyTable

from ..compat import UntrustedCheckpointError, untrusted_message
from .fileio import atomic_copy, atomic_write

__all__ = ['load_checkpoint_file', 'load_checkpoint', 'atomic_save', 'point_latest',
           'check_shapes', 'key_report', 'load_converted', 'strip_prefix',
           'UntrustedCheckpointError']


def check_shapes(model, state_dict):
    """Raises when a tensor of ``state_dict`` does not fit ``model``'s parameter.

    mmcv's ``load_state_dict`` only logs a size mismatch and leaves the parameter at
    its initial value, which shows up much later as garbage mIoU. The usual cause is
    a checkpoint of another model size (a B1 decoder, embed dim 256, into B5, 768).
    """
    own = model.state_dict()
    mismatched = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in state_dict.items()
                  if k in own and hasattr(v, 'shape') and tuple(v.shape) != tuple(own[k].shape)]
    if mismatched:
        lines = '\n'.join(f'  {k}: checkpoint {a}, model {b}' for k, a, b in mismatched)
        raise ValueError(
            f'{len(mismatched)} parameter(s) of the checkpoint do not fit the model '
            f'{type(model).__name__}: the checkpoint is of another model size or '
            f'decoder width (e.g. a B1 checkpoint, decoder embed dim 256, into a B5 '
            f'config, 768); pick the matching configs/_base_/models/segformer_mit-b*.py.'
            f'\n{lines}')


def strip_prefix(state_dict, prefix):
    """The entries of ``state_dict`` under ``prefix``, with the prefix removed."""
    n = len(prefix)
    return {k[n:]: v for k, v in state_dict.items() if k.startswith(prefix)}


def key_report(missing, unexpected):
    """A PrettyTable of missing and unexpected keys (grouped by module prefix)."""
    table = PrettyTable(['status', 'keys'])
    table.align = 'l'
    for status, keys in (('missing in checkpoint', missing),
                         ('unexpected in checkpoint', unexpected)):
        groups = {}
        for k in keys:
            groups.setdefault('.'.join(k.split('.')[:2]), []).append(k)
        for prefix, ks in sorted(groups.items()):
            table.add_row([status, f'{prefix}.* ({len(ks)})' if len(ks) > 1 else ks[0]])
    return table


def load_converted(model, state_dict, prefix='', strict=False, logger=None):
    """Loads a converted state dict, checking shapes first.

    Args:
        model (nn.Module): the target module.
        state_dict (dict): keys relative to ``model`` once ``prefix`` is removed.
        prefix (str): prefix of the keys meant for ``model`` (others are ignored).
            Default: ''.
        strict (bool): raise on missing or unexpected keys. Default: False.
        logger: mmcv logger (or None: print). Default: None.

    Returns:
        tuple[list, list]: missing and unexpected keys.
    """
    sd = strip_prefix(state_dict, prefix) if prefix else dict(state_dict)
    own = model.state_dict()
    check_shapes(model, sd)
    missing = sorted(k for k in own
                     if k not in sd and not k.endswith('num_batches_tracked'))
    unexpected = sorted(k for k in sd if k not in own)
    if missing or unexpected:
        table = key_report(missing, unexpected)
        report = f'keys not loaded into {type(model).__name__}:\n{table}'
        if strict:
            raise KeyError(report)
        if logger is not None:
            logger.warning(report)
        else:
            print(report)
    model.load_state_dict(sd, strict=False)
    return missing, unexpected


def load_checkpoint_file(filename, map_location='cpu', trusted=False):
    """Reads a checkpoint into a dict.

    Args:
        filename (str): a local path or any URI mmcv's ``CheckpointLoader`` knows.
        map_location (str): as in :func:`torch.load`. Default: 'cpu'.
        trusted (bool): unpickle arbitrary objects (can run code from the file).
            Default: False.
    """
    is_local = '://' not in str(filename)
    if is_local and not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    try:
        if not trusted:
            return CheckpointLoader.load_checkpoint(filename, map_location=map_location)
        return torch.load(filename, map_location=map_location, weights_only=False)
    except (UntrustedCheckpointError, FileNotFoundError):
        raise
    except Exception as err:  # truncated or corrupt file: name it
        raise RuntimeError(f'could not read checkpoint {filename} (truncated or not a '
                           f'checkpoint?): {type(err).__name__}: {err}') from err


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

    Raises:
        ValueError: a tensor's shape differs from the model's (another model size).

    Returns:
        dict: the whole checkpoint (``meta``, ``optimizer``, ...).
    """
    import re
    checkpoint = load_checkpoint_file(filename, map_location, trusted)
    state_dict = checkpoint.get('state_dict', checkpoint)
    for pattern, repl in revise_keys:
        state_dict = {re.sub(pattern, repl, k): v for k, v in state_dict.items()}
    target = getattr(model, 'module', model)
    check_shapes(target, state_dict)
    mmcv_load_state_dict(target, state_dict, strict, logger)
    return checkpoint


def atomic_save(obj, filename):
    """``torch.save`` to a temporary file in the same folder, then rename.

    A crash mid-write leaves the previous file (or none), never half of one.
    """
    atomic_write(lambda f: torch.save(obj, f), filename, binary=True)


def point_latest(filename, latest):
    """Makes ``latest`` (a run's ``latest.pth``) name the checkpoint ``filename``,
    atomically: a relative symlink made under a temporary name and renamed over
    it; where the file system has no symbolic links, an atomic copy of the bytes.
    A reader sees the previous checkpoint or the new one, never part of one.
    The one writer of ``latest.pth`` for every runner.

    Args:
        filename (str): the checkpoint just written (in ``latest``'s folder or
            below it, so the relative link survives moving the work dir).
        latest (str): the path to point, e.g. ``work_dir/latest.pth``.
    """
    folder = osp.dirname(latest) or '.'
    tmp = osp.join(folder, f'.tmp-latest-{os.getpid()}')  # remove_stale_tmp's pattern
    if osp.lexists(tmp):
        os.remove(tmp)
    try:
        os.symlink(osp.relpath(filename, folder), tmp)
    except (OSError, NotImplementedError):
        atomic_copy(filename, latest)
        return
    os.replace(tmp, latest)
