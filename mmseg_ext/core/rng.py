"""Save and restore every global random generator (torch, numpy, python, CUDA).

Checkpoints of source training (:class:`~mmseg_ext.core.AtomicIterBasedRunner`)
and of online runs (``online_src``) carry these states so that a resumed run
draws the same random numbers as the uninterrupted one.
"""
import random

import numpy as np
import torch

__all__ = ['get_rng_state', 'set_rng_state']


def get_rng_state():
    """dict: the state of every global generator."""
    state = dict(torch=torch.get_rng_state(), numpy=list(np.random.get_state()),
                 python=random.getstate())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _tuplify(x):
    return tuple(_tuplify(v) for v in x) if isinstance(x, (list, tuple)) else x


def set_rng_state(state):
    """Restores :func:`get_rng_state`'s output (lists from a checkpoint accepted)."""
    torch.set_rng_state(state['torch'])
    np.random.set_state(tuple(state['numpy']))
    random.setstate(_tuplify(state['python']))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
