"""Cluster launch: one SLURM batch script per generated run config.

``run_experiments.py --exp N --launcher slurm`` calls :func:`write_sbatch_scripts`
instead of training locally: each resolved config gets ``<name>.sbatch`` next to
it, which runs ``tools/train.py CONFIG`` through ``srun`` (one task per GPU, mmcv's
``--launcher slurm`` when a job has several GPUs), and ``submit_all.sh`` submits
them all. Sweeps then run on a cluster with ``bash .../submit_all.sh``.
"""
import os
import os.path as osp
import re
import shlex
import stat
import sys

__all__ = ['check_slurm_args', 'sbatch_script', 'write_sbatch_scripts']

_TIME_RE = re.compile(r'^(\d+-)?\d{1,2}(:\d{2}){0,2}$|^\d+$')
_NAME_RE = re.compile(r'^[A-Za-z0-9_.+-]+$')


def check_slurm_args(partition, gpus, time, cpus_per_task=4, nodes=1):
    """Raises ValueError naming the bad flag (before any file is written)."""
    if not partition or not _NAME_RE.match(str(partition)):
        raise ValueError(f'--partition must be a SLURM partition name, got {partition!r}')
    if int(gpus) < 0:
        raise ValueError(f'--gpus must be >= 0 (GPUs per job), got {gpus}')
    if not _TIME_RE.match(str(time)):
        raise ValueError(f"--time must be SLURM's [D-]HH:MM:SS, HH:MM or minutes, "
                         f'got {time!r}')
    if int(cpus_per_task) < 1:
        raise ValueError(f'--cpus-per-task must be >= 1, got {cpus_per_task}')
    if int(nodes) < 1:
        raise ValueError(f'--nodes must be >= 1, got {nodes}')


def sbatch_script(cfg_file, job_name, work_dir, partition, gpus, time,
                  cpus_per_task=4, nodes=1, repo_dir=None, python=None,
                  train_args=()):
    """Text of the SLURM batch script that trains one config.

    Args:
        cfg_file (str): the resolved config (``configs/generated/<exp>/<name>.py``).
        job_name (str): SLURM job name (the run name).
        work_dir (str): the run's work dir; the SLURM log goes there.
        partition (str): SLURM partition.
        gpus (int): GPUs per node; each GPU is one task (process). 0 runs one CPU
            task.
        time (str): wall-time limit (``[D-]HH:MM:SS``).
        cpus_per_task (int): CPU cores per task (data loading). Default: 4.
        nodes (int): nodes per job. Default: 1.
        repo_dir (str | None): where ``tools/train.py`` lives. Default: None
            (this checkout).
        python (str | None): interpreter. Default: None (the current one).
        train_args (Sequence[str]): extra ``tools/train.py`` arguments.
            Default: ().

    Returns:
        str: the script.
    """
    check_slurm_args(partition, gpus, time, cpus_per_task, nodes)
    repo_dir = osp.abspath(repo_dir or osp.join(osp.dirname(__file__), '..', '..'))
    python = python or sys.executable
    tasks = max(int(gpus), 1)
    multi = tasks * int(nodes) > 1
    lines = [
        '#!/bin/bash',
        f'#SBATCH --job-name={job_name}',
        f'#SBATCH --partition={partition}',
        f'#SBATCH --nodes={int(nodes)}',
        f'#SBATCH --ntasks-per-node={tasks}',
        f'#SBATCH --cpus-per-task={int(cpus_per_task)}',
        f'#SBATCH --time={time}',
        f'#SBATCH --output={osp.join(work_dir, "slurm-%j.out")}',
    ]
    if int(gpus) > 0:
        lines.append(f'#SBATCH --gres=gpu:{int(gpus)}')
    cmd = [python, '-u', 'tools/train.py', cfg_file,
           '--launcher', 'slurm' if multi else 'none'] + list(train_args)
    lines += [
        'set -euo pipefail',
        f'mkdir -p {shlex.quote(work_dir)}',
        f'cd {shlex.quote(repo_dir)}',
        'export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}',
        'srun ' + ' '.join(shlex.quote(str(c)) for c in cmd),
        '',
    ]
    return '\n'.join(lines)


def write_sbatch_scripts(runs, out_dir, partition, gpus, time, cpus_per_task=4,
                         nodes=1, repo_dir=None, python=None, train_args=()):
    """Writes ``<name>.sbatch`` per run and ``submit_all.sh`` in ``out_dir``, and
    creates each run's work dir (where SLURM writes the job's log).

    Args:
        runs (Sequence[dict]): one per generated config, with ``name``,
            ``cfg_file`` and ``work_dir``.
        out_dir (str): where the scripts go (next to the generated configs).
        partition, gpus, time, cpus_per_task, nodes, repo_dir, python,
            train_args: see :func:`sbatch_script`.

    Returns:
        list[str]: the sbatch files, in ``runs`` order (``submit_all.sh`` last
        in the directory).
    """
    check_slurm_args(partition, gpus, time, cpus_per_task, nodes)
    for i, run in enumerate(runs):
        missing = [k for k in ('name', 'cfg_file', 'work_dir') if not run.get(k)]
        if missing:
            raise ValueError(f'run {i} has no {missing}: each run needs name, '
                             'cfg_file and work_dir')
    os.makedirs(out_dir, exist_ok=True)
    files = []
    for run in runs:
        # SLURM opens --output before the job runs: its folder must exist now
        os.makedirs(run['work_dir'], exist_ok=True)
        path = osp.join(out_dir, f'{run["name"]}.sbatch')
        with open(path, 'w') as f:
            f.write(sbatch_script(osp.abspath(run['cfg_file']), run['name'],
                                  osp.abspath(run['work_dir']), partition, gpus, time,
                                  cpus_per_task, nodes, repo_dir, python, train_args))
        files.append(path)
    submit = osp.join(out_dir, 'submit_all.sh')
    with open(submit, 'w') as f:
        f.write('#!/bin/bash\n# Submits every run of this sweep to SLURM.\nset -e\n')
        for path in files:
            f.write(f'sbatch {shlex.quote(osp.abspath(path))}\n')
    os.chmod(submit, os.stat(submit).st_mode | stat.S_IXUSR)
    return files
