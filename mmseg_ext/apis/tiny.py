"""Smoke-test sizes for the command-line tools: ``ONDA_TINY=1``.

With the environment variable ``ONDA_TINY`` set (to anything but ``0``), the
command-line tools keep their arguments but shrink the work, so that a block of
commands (the README's "Usage") runs top to bottom in a minute or two as written:
``tools/data/proccity.py`` renders at most :data:`TINY_IMAGES` images per split at
:data:`TINY_SIZE`, and ``tools/train.py`` merges :func:`tiny_cfg_options` into the
config (a few source iterations; two visits of one frame and one evaluated image
per domain online). Only the scripts read it; the library takes its sizes from
arguments and configs.
"""
import os

__all__ = ['TINY_ENV', 'TINY_IMAGES', 'TINY_SIZE', 'is_tiny', 'tiny_splits',
           'tiny_cfg_options']

TINY_ENV = 'ONDA_TINY'
TINY_IMAGES = 2  # per split; 4 for train (2 batches for the source model)
TINY_SIZE = (64, 128)  # (H, W)


def is_tiny(environ=None):
    """bool: ``ONDA_TINY`` is set and not '0'."""
    return (environ if environ is not None else os.environ).get(TINY_ENV, '0') not in (
        '', '0')


def tiny_splits(splits):
    """dict: images per split, capped (train keeps two batches of two)."""
    return {k: min(n, 2 * TINY_IMAGES if k == 'train' else TINY_IMAGES)
            for k, n in splits.items()}


def tiny_cfg_options(cfg):
    """dict: ``--cfg-options`` shrinking a run of ``cfg`` to a smoke test.

    Source training: 2 iterations of 2 images, evaluated and checkpointed at the
    end. Online run: the first 2 visits of ``runner.domain_order``, 1 frame each,
    1 held-out image per evaluated domain.
    """
    runner = cfg.get('runner', {})
    if runner.get('type') == 'OnlineRunner':
        options = {'runner.frames_per_domain': 1, 'online_evaluation.max_images': 1}
        if runner.get('domain_order'):
            options['runner.domain_order'] = list(runner['domain_order'][:2])
        return options
    options = {'runner.max_iters': 2, 'data.samples_per_gpu': 2,
               'checkpoint_config.interval': 2, 'evaluation.interval': 2}
    if cfg.get('lr_config', {}).get('warmup_iters'):
        options['lr_config.warmup_iters'] = 1
    return options
