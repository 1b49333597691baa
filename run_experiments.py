"""Generate, save and train the configs of an experiment.

    python run_experiments.py --exp N [--custom 1] [--dry-run] [--overwrite]
        [--cfg-options k=v ...]
    python run_experiments.py --config FILE [--overwrite]
    python run_experiments.py --exp N --launcher slurm --partition P --gpus G --time T

``--exp N`` expands experiment N of ``experiments.py`` (``experiments_custom.py``
with ``--custom 1``) into configs, writes each resolved config with the git
revision to ``configs/generated/<N>/<name>.py`` (a Python config that loads back
to exactly the generated config), trains them one after another
(``--dry-run`` stops after writing) and compares the online runs in
``<work-root>/<N>/report.md`` and ``miou_stream.png`` (runs overlaid).
``--cfg-options`` overrides keys of every generated config (as in
``tools/train.py``). ``--config FILE`` trains one config (in
``<work-root>/<file name>`` when it sets no ``work_dir``, as ``tools/train.py``).
All the work happens in :mod:`online_src.apis.sweep`.
"""
import argparse
import importlib
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from mmcv import DictAction  # noqa: E402

import mmseg_ext  # noqa: E402,F401  (compat fixes, registrations)
from online_src.apis.sweep import generate_runs, report_runs, train_configs  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument('--exp', type=int, help='experiment id (see experiments.py)')
    what.add_argument('--config', help='train this one config file')
    parser.add_argument('--custom', type=int, choices=[0, 1], default=0,
                        help='1: ids of experiments_custom.py (lists of sweep_lists_custom.py)')
    parser.add_argument('--dry-run', action='store_true',
                        help='write the generated configs, train nothing')
    parser.add_argument('--overwrite', action='store_true',
                        help='rerun online runs whose work dir holds a finished run')
    parser.add_argument('--work-root', default='work_dirs',
                        help='runs go to <work-root>/<exp>/<name>')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override keys of every generated config, e.g. '
                             'data_root=DIR runner.frames_per_domain=5')
    parser.add_argument('--launcher', choices=['local', 'slurm'], default='local',
                        help='slurm: write sbatch scripts next to the configs')
    parser.add_argument('--partition', help='SLURM partition')
    parser.add_argument('--gpus', type=int, default=1, help='SLURM GPUs per job')
    parser.add_argument('--time', default='24:00:00', help='SLURM time limit')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.launcher == 'slurm' and args.gpus > 1:
        raise ValueError(f'--gpus {args.gpus}: an online run streams in one process '
                         f'(tools/train.py refuses a multi-process launcher for it); '
                         f'use --gpus 1')
    if args.config:
        return train_configs([args.config], overwrite=args.overwrite,
                             work_root=args.work_root)
    module = importlib.import_module('experiments_custom' if args.custom else 'experiments')
    runs = generate_runs(module.generate_experiment_cfgs(args.exp), args.exp,
                         work_root=args.work_root, custom=bool(args.custom),
                         cfg_options=args.cfg_options)
    for run in runs:
        print(run['cfg_file'])
    if args.launcher == 'slurm':
        from online_src.apis.launch import write_sbatch_scripts
        out_dir = osp.dirname(runs[0]['cfg_file'])
        return write_sbatch_scripts(runs, out_dir, args.partition, args.gpus, args.time)
    if args.dry_run:
        return runs
    results = train_configs(runs, overwrite=args.overwrite)
    text = report_runs(runs, osp.join(args.work_root, str(args.exp)))
    if text:
        print(text)
    return results


if __name__ == '__main__':
    main()
