"""Multi-process runs on machines without GPUs: mmcv's launchers with gloo.

mmcv 1.7.2's ``init_dist`` pins a GPU per process (``torch.cuda.set_device(rank %
torch.cuda.device_count())``), a division by zero on a CPU-only machine, and its
``MMDistributedDataParallel`` only unpacks ``DataContainer`` batches when it has
``device_ids`` (GPUs). This module gives the CPU side of the same two steps, so
``tools/train.py --launcher pytorch|slurm`` runs the same code path on CPU (gloo)
as on GPUs (nccl):

- :func:`init_dist_env`: mmcv's ``init_dist`` when CUDA is there; otherwise the
  same environment contract (torchrun's ``RANK``/``WORLD_SIZE``/``MASTER_*``, or
  SLURM's ``SLURM_PROCID``/``SLURM_NTASKS``/``SLURM_NODELIST``) with gloo.
- :class:`CPUDistributedDataParallel`: mmcv's DDP wrapper that scatters batches to
  the CPU (device ``-1``) before ``train_step``/``val_step``, like
  ``MMDataParallel`` does on CPU. Gradients are averaged by torch's DDP reducer.
"""
import os
import subprocess

import torch
import torch.distributed as dist
from mmcv.parallel import MMDistributedDataParallel
from mmcv.parallel.scatter_gather import scatter_kwargs
from mmcv.runner import init_dist

__all__ = ['LAUNCHERS', 'CPUDistributedDataParallel', 'init_dist_env', 'slurm_env']

LAUNCHERS = ('none', 'pytorch', 'slurm')
DEFAULT_PORT = 29500


def slurm_env(environ=None):
    """torch.distributed's env:// variables derived from a SLURM task's variables.

    Same contract as mmcv's SLURM launcher: rank ``SLURM_PROCID``, world size
    ``SLURM_NTASKS``, master the first host of ``SLURM_NODELIST`` (through
    ``scontrol show hostname``) unless ``MASTER_ADDR`` is set, port
    ``MASTER_PORT`` or 29500.

    Args:
        environ (dict | None): the environment. Default: None (``os.environ``).

    Returns:
        dict: ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
        ``MASTER_PORT``.
    """
    env = os.environ if environ is None else environ
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST')
               if k not in env]
    if missing:
        raise KeyError(f'--launcher slurm needs the SLURM task variables {missing} '
                       '(run the job through srun/sbatch)')
    addr = env.get('MASTER_ADDR')
    if not addr:
        try:
            out = subprocess.run(['scontrol', 'show', 'hostname', env['SLURM_NODELIST']],
                                 capture_output=True, text=True, check=True)
            addr = out.stdout.split()[0]
        except (OSError, subprocess.CalledProcessError, IndexError) as err:
            raise RuntimeError(f'--launcher slurm: cannot resolve the master host of '
                               f'SLURM_NODELIST={env["SLURM_NODELIST"]!r} with '
                               f'scontrol ({err}); set MASTER_ADDR') from None
    return dict(RANK=str(int(env['SLURM_PROCID'])),
                WORLD_SIZE=str(int(env['SLURM_NTASKS'])),
                LOCAL_RANK=str(int(env.get('SLURM_LOCALID', 0))),
                MASTER_ADDR=addr,
                MASTER_PORT=str(env.get('MASTER_PORT', DEFAULT_PORT)))


def init_dist_env(launcher, backend=None, **kwargs):
    """Initialises the process group of ``--launcher`` on GPUs or CPUs.

    Args:
        launcher (str): 'none', 'pytorch' (torchrun) or 'slurm' (srun).
        backend (str | None): 'nccl', 'gloo', ...; without CUDA it is always
            'gloo'. Default: None ('nccl' with CUDA).
        **kwargs: passed to mmcv's ``init_dist`` (CUDA) or
            ``init_process_group`` (CPU).

    Returns:
        bool: whether the run is distributed.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f'launcher must be one of {LAUNCHERS}, got {launcher!r}')
    if launcher == 'none':
        return False
    if torch.cuda.is_available():
        init_dist(launcher, backend=backend or 'nccl', **kwargs)
        return True
    port = kwargs.pop('port', None)  # mmcv's slurm launcher argument
    if launcher == 'slurm':
        env = slurm_env()
        if port is not None:
            env['MASTER_PORT'] = str(port)
        os.environ.update(env)
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise KeyError(f'--launcher pytorch needs {missing} in the environment '
                       '(start the processes with torchrun)')
    dist.init_process_group(backend='gloo', init_method='env://', **kwargs)
    return True


class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmcv's ``MMDistributedDataParallel`` for CPU processes (gloo).

    Build it without ``device_ids``; ``DataContainer`` inputs are scattered to the
    CPU (mmcv's device ``-1``) before the wrapped module's ``train_step`` /
    ``val_step``, then mmcv's DDP logic runs (bucket rebuild, buffer sync,
    ``prepare_for_backward``), so gradients are all-reduced (averaged) in
    ``backward`` as on GPUs.
    """

    def _to_cpu(self, inputs, kwargs):
        inputs, kwargs = scatter_kwargs(inputs, kwargs, [-1], dim=self.dim)
        return inputs[0], kwargs[0]

    def train_step(self, *inputs, **kwargs):
        inputs, kwargs = self._to_cpu(inputs, kwargs)
        return super().train_step(*inputs, **kwargs)

    def val_step(self, *inputs, **kwargs):
        inputs, kwargs = self._to_cpu(inputs, kwargs)
        return super().val_step(*inputs, **kwargs)
