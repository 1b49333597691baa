"""mmcv's iteration runner with crash-safe checkpoints and the checkpoint trust switch."""
import os.path as osp
import re

import torch
from mmcv.runner import RUNNERS, IterBasedRunner, save_checkpoint
from torch.utils.data import BatchSampler, DataLoader, Sampler

from .checkpoint import load_checkpoint_file, load_converted, point_latest
from .fileio import atomic_path
from .rng import get_rng_state, set_rng_state
from .run_safety import NonFiniteLossHook

__all__ = ['AtomicIterBasedRunner']


class _ReplayableSampler(Sampler):
    """Draws a pass's order from ``base`` when the pass starts (the same RNG draws
    at the same moment as the base sampler inside a DataLoader) and remembers it
    with the position reached, so that a resumed run continues mid-pass with the
    same order.

    Args:
        base (Sampler): the loader's own sampler (RandomSampler, a distributed
            sampler, ...).
    """

    def __init__(self, base):
        self.base = base
        self.order = None
        self.pos = 0

    def __len__(self):
        return len(self.base)

    def __iter__(self):
        if self.order is None:
            self.order = [int(i) for i in self.base]
        while self.pos < len(self.order):
            self.pos += 1
            yield self.order[self.pos - 1]
        self.order, self.pos = None, 0

    def state_dict(self):
        return dict(order=None if self.order is None else list(self.order), pos=self.pos)

    def load_state_dict(self, state):
        self.order = None if state['order'] is None else list(state['order'])
        self.pos = int(state['pos'])


class _CyclingLoader:
    """A data loader that never ends and can be resumed mid-pass.

    mmcv's ``IterLoader`` sleeps 2 s at every end of the data (a guard for worker
    processes); with ``num_workers=0`` and a small source set (ProcCity on a CPU)
    that sleep dominated training. The sampler's ``set_epoch`` is still called
    at each new pass. The loader is rebuilt around a :class:`_ReplayableSampler`
    (same dataset, batch size, collate function), so :meth:`state_dict` holds the
    pass count, the pass's order and the samples consumed, and
    :meth:`load_state_dict` followed by iteration continues exactly there.
    With ``num_workers=0`` (the only case this class is used for) nothing is
    prefetched, so the position is exactly the samples of the batches delivered.

    Args:
        loader (DataLoader): the loader to cycle.
    """

    def __init__(self, loader):
        self.sampler = loader.sampler
        self.replay = _ReplayableSampler(loader.sampler)
        self.loader = DataLoader(
            loader.dataset, batch_size=loader.batch_size, sampler=self.replay,
            num_workers=0, collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
            drop_last=loader.drop_last, worker_init_fn=loader.worker_init_fn,
            generator=loader.generator)
        self.epoch = 0
        self._rng_state = None

    def __len__(self):
        return len(self.loader)

    def state_dict(self):
        """dict: passes done, the current pass's order and position."""
        return dict(epoch=self.epoch, sampler=self.replay.state_dict())

    def load_state_dict(self, state, rng_state=None):
        """Continues at ``state``; ``rng_state`` (of :func:`get_rng_state`) is
        restored right before the first batch is read, after the loader built
        its iterator (which draws from torch's RNG in a fresh process but not
        mid-pass in the uninterrupted run)."""
        self.epoch = int(state['epoch'])
        self.replay.load_state_dict(state['sampler'])
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(self.epoch)
        self._rng_state = rng_state

    def __iter__(self):
        while True:
            it = iter(self.loader)
            if self._rng_state is not None:
                set_rng_state(self._rng_state)
                self._rng_state = None
            yield from it
            self.epoch += 1
            if hasattr(self.sampler, 'set_epoch'):
                self.sampler.set_epoch(self.epoch)


def _cyclable(loader):
    """A loader without worker processes whose batches come from a plain
    :class:`BatchSampler` (what mmseg's ``build_dataloader`` makes)."""
    return (getattr(loader, 'num_workers', 1) == 0 and
            type(getattr(loader, 'batch_sampler', None)) is BatchSampler)


@RUNNERS.register_module()
class AtomicIterBasedRunner(IterBasedRunner):
    """``IterBasedRunner`` whose checkpoints are written atomically.

    Each checkpoint goes to a temporary file in the work dir and is renamed into
    place, and ``latest.pth`` is re-pointed (:func:`~.checkpoint.point_latest`), so a run
    killed mid-save leaves the previous checkpoint, never half of one.
    ``resume``/``load_checkpoint`` read ``weights_only`` unless trusted and refuse
    tensors of another shape.
    Loaders without worker processes are cycled without mmcv's 2 s pause at each
    end of the data, and resume exactly: each checkpoint's ``meta['resume_state']``
    holds every global RNG state and each such loader's pass, order and position
    (:class:`_CyclingLoader`), and :meth:`resume` restores them, so a resumed run
    reads the same batches with the same augmentations and dropout draws as the
    uninterrupted one (the optimizer state is mmcv's, the learning rate a function
    of the iteration). Loaders with worker processes resume at the right
    iteration, but their workers' augmentation RNGs restart. A NaN/inf loss stops
    the run (or skips the step) before the optimizer step
    (:class:`~mmseg_ext.core.run_safety.NonFiniteLossHook`).

    Args:
        trusted_checkpoint (bool): fully unpickle the files this runner loads
            (can run code from them). Default: False.
        nonfinite_loss (str): 'stop' or 'skip' an iteration whose loss is NaN or
            infinite. Default: 'stop'.
        **kwargs: :class:`mmcv.runner.IterBasedRunner` arguments.
    """

    def __init__(self, trusted_checkpoint=False, nonfinite_loss='stop', **kwargs):
        super().__init__(**kwargs)
        self.trusted_checkpoint = trusted_checkpoint
        self._loaders = []
        self._resume_state = None
        self._loaded_meta = {}
        # before OptimizerHook (ABOVE_HIGH) in after_train_iter
        self.register_hook(NonFiniteLossHook(nonfinite_loss), priority='VERY_HIGH')

    def run(self, data_loaders, workflow, max_iters=None, **kwargs):
        data_loaders = [_CyclingLoader(d) if _cyclable(d) else d for d in data_loaders]
        self._loaders = [d for d in data_loaders if isinstance(d, _CyclingLoader)]
        if self._resume_state is not None:
            state, self._resume_state = self._resume_state, None
            if len(state['loaders']) != len(self._loaders):
                raise ValueError(f'the checkpoint resumed from holds the state of '
                                 f'{len(state["loaders"])} data loader(s), this run '
                                 f'has {len(self._loaders)}: data.train changed?')
            for loader, loader_state in zip(self._loaders, state['loaders']):
                loader.load_state_dict(loader_state, state['rng'])
        return super().run(data_loaders, workflow, max_iters, **kwargs)

    def resume(self, checkpoint, resume_optimizer=True, map_location='default'):
        """mmcv's resume plus the RNG and data-loader state of the checkpoint
        (applied when :meth:`run` starts); ``'default'`` maps to the current GPU,
        or the CPU without one."""
        if map_location == 'default' and not torch.cuda.is_available():
            map_location = 'cpu'
        self._resume_state = None
        super().resume(checkpoint, resume_optimizer, map_location)
        self._resume_state = self._loaded_meta.get('resume_state')

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=((r'^module\.', ''),)):
        """Loads ``filename`` into the model; a tensor of another shape is an error.

        mmcv only logs size mismatches, so a B1 checkpoint in a B5 config would
        train from garbage; here it raises, naming the expected and found shapes,
        and missing/unexpected keys are logged as a table.

        Returns:
            dict: the whole checkpoint (``meta``, ``optimizer``, ...).
        """
        checkpoint = load_checkpoint_file(filename, map_location, self.trusted_checkpoint)
        self._loaded_meta = dict(checkpoint.get('meta') or {})
        state_dict = checkpoint.get('state_dict', checkpoint)
        for pattern, repl in revise_keys:
            state_dict = {re.sub(pattern, repl, k): v for k, v in state_dict.items()}
        load_converted(getattr(self.model, 'module', self.model), state_dict,
                       strict=strict, logger=self.logger)
        return checkpoint

    def save_checkpoint(self, out_dir, filename_tmpl='iter_{}.pth', meta=None,
                        save_optimizer=True, create_symlink=True):
        if meta is None:
            meta = {}
        elif not isinstance(meta, dict):
            raise TypeError(f'meta should be a dict or None, but got {type(meta)}')
        if self.meta is not None:
            meta.update({k: v for k, v in self.meta.items() if k != 'resume_state'})
        # iterations done (mmcv stores self.iter, one less, so a resumed run
        # repeated the last iteration before the checkpoint)
        meta.update(epoch=self.epoch + 1, iter=self.iter + 1)
        meta['resume_state'] = dict(rng=get_rng_state(),
                                    loaders=[d.state_dict() for d in self._loaders])
        filename = filename_tmpl.format(self.iter + 1)
        filepath = osp.join(out_dir, filename)
        with atomic_path(filepath) as tmp:
            save_checkpoint(self.model, tmp,
                            optimizer=self.optimizer if save_optimizer else None,
                            meta=meta)
        if create_symlink:
            point_latest(filepath, osp.join(out_dir, 'latest.pth'))
