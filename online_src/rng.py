"""Random-state helpers that make an online run resumable frame for frame.

Global generators (torch, numpy, python, CUDA) are saved in checkpoints; samples
are loaded under :func:`seeded`, a context that seeds every global generator from
the sample's position in the stream and restores the previous state afterwards, so
a data pipeline's random augmentations depend on where the sample is in the
stream, not on what ran before (e.g. a replay buffer refilled after a resume).
"""
import contextlib
import random

import numpy as np
import torch

from mmseg_ext.core.rng import get_rng_state, set_rng_state

__all__ = ['get_rng_state', 'set_rng_state', 'seeded']


@contextlib.contextmanager
def seeded(*key):
    """Runs the block with every global CPU generator seeded from ``key`` (ints),
    restoring the previous states afterwards."""
    seed = int(np.random.SeedSequence([int(k) & 0xFFFFFFFF for k in key])
               .generate_state(1)[0])
    saved = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    torch.random.default_generator.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        torch.set_rng_state(saved[0])
        np.random.set_state(saved[1])
        random.setstate(saved[2])
