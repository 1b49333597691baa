"""mmcv's iteration runner with crash-safe checkpoints and the checkpoint trust switch."""
import os
import os.path as osp
import re

import torch
from mmcv.runner import RUNNERS, IterBasedRunner, save_checkpoint

from .checkpoint import load_checkpoint_file
from .run_safety import NonFiniteLossHook
from .fileio import atomic_path

__all__ = ['AtomicIterBasedRunner']


class _CyclingLoader:
    """A data loader that never ends: passes over ``loader`` again and again.

    mmcv's ``IterLoader`` sleeps 2 s at every end of the data (a guard for worker
    processes); with ``num_workers=0`` and a small source set (ProcCity on a CPU)
    that sleep dominated training. The sampler's ``set_epoch`` is still called
    at each new pass.

    Args:
        loader (DataLoader): the loader to cycle.
    """

    def __init__(self, loader):
        self.loader = loader
        self.sampler = loader.sampler
        self.epoch = 0

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        while True:
            yield from self.loader
            self.epoch += 1
            if hasattr(self.sampler, 'set_epoch'):
                self.sampler.set_epoch(self.epoch)


@RUNNERS.register_module()
class AtomicIterBasedRunner(IterBasedRunner):
    """``IterBasedRunner`` whose checkpoints are written atomically.

    Each checkpoint goes to a temporary file in the work dir and is renamed into
    place, and ``latest.pth`` is re-pointed by renaming a fresh symlink, so a run
    killed mid-save leaves the previous checkpoint, never half of one.
    ``resume``/``load_checkpoint`` read ``weights_only`` unless trusted and refuse
    tensors of another shape.
    Loaders without worker processes are cycled without mmcv's 2 s pause at each
    end of the data. A NaN/inf loss stops the run (or skips the step) before the
    optimizer step (:class:`~mmseg_ext.core.run_safety.NonFiniteLossHook`).

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
        # before OptimizerHook (ABOVE_HIGH) in after_train_iter
        self.register_hook(NonFiniteLossHook(nonfinite_loss), priority='VERY_HIGH')

    def run(self, data_loaders, workflow, max_iters=None, **kwargs):
        data_loaders = [_CyclingLoader(d) if getattr(d, 'num_workers', 1) == 0 else d
                        for d in data_loaders]
        return super().run(data_loaders, workflow, max_iters, **kwargs)

    def resume(self, checkpoint, resume_optimizer=True, map_location='default'):
        """mmcv's resume; ``'default'`` maps to the current GPU, or the CPU without one."""
        if map_location == 'default' and not torch.cuda.is_available():
            map_location = 'cpu'
        return super().resume(checkpoint, resume_optimizer, map_location)

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=((r'^module\.', ''),)):
        """Loads ``filename`` into the model; a tensor of another shape is an error.

        mmcv only logs size mismatches, so a B1 checkpoint in a B5 config would
        train from garbage; here it raises, naming the expected and found shapes,
        and missing/unexpected keys are logged as a table.

        Returns:
            dict: the whole checkpoint (``meta``, ``optimizer``, ...).
        """
        from ..models.utils import load_converted
        checkpoint = load_checkpoint_file(filename, map_location, self.trusted_checkpoint)
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
            meta.update(self.meta)
        # iterations done (mmcv stores self.iter, one less, so a resumed run
        # repeated the last iteration before the checkpoint)
        meta.update(epoch=self.epoch + 1, iter=self.iter + 1)
        filename = filename_tmpl.format(self.iter + 1)
        filepath = osp.join(out_dir, filename)
        with atomic_path(filepath) as tmp:
            save_checkpoint(self.model, tmp,
                            optimizer=self.optimizer if save_optimizer else None,
                            meta=meta)
        if create_symlink:
            link_tmp = osp.join(out_dir, f'.tmp-latest-{os.getpid()}')
            if osp.lexists(link_tmp):
                os.remove(link_tmp)
            os.symlink(filename, link_tmp)
            os.replace(link_tmp, osp.join(out_dir, 'latest.pth'))
