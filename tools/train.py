"""Train from one config: source training, or an online run (runner OnlineRunner).

    python tools/train.py CONFIG [--work-dir DIR] [--resume-from F] [--load-from F]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm] [--seed N]
        [--deterministic] [--trusted-checkpoint] [--no-validate] [--overwrite]
        [--force-resume]

All the work happens in :mod:`mmseg_ext.apis`; this script only reads arguments.
"""
import argparse
import os
import os.path as osp
import shlex
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmcv import DictAction  # noqa: E402

import mmseg_ext  # noqa: E402,F401  (compat fixes, registrations)
from mmseg_ext.apis.config import default_work_dir  # noqa: E402
from mmseg_ext.apis.config import load_config as read_config  # noqa: E402
from mmseg_ext.apis.config import is_online_cfg  # noqa: E402
from mmseg_ext.apis.tiny import is_tiny, tiny_cfg_options  # noqa: E402
from mmseg_ext.apis.train import init_launcher, train_source  # noqa: E402
from online_src.apis.online import train_online  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--resume-from', help='checkpoint to resume the run from')
    parser.add_argument('--load-from', help='checkpoint whose weights start the run')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. optimizer.lr=1e-4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'],
                        default='none', help='job launcher')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic cuDNN')
    parser.add_argument('--trusted-checkpoint', action='store_true',
                        help='fully unpickle --resume-from/--load-from (can run code '
                             'from the file: only for files you trust)')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation mIoU during training')
    parser.add_argument('--overwrite', action='store_true',
                        help='online runs: run again in a work dir holding a finished '
                             'or unfinished run (moved aside, removed once the new '
                             'run has started)')
    parser.add_argument('--force-resume', action='store_true',
                        help='online runs: resume although the checkpoint was written '
                             'with other data locations (data_root, img_dir, ann_dir, '
                             'split); any other config difference is still refused')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(args):
    """The config with the command-line overrides applied (and, with ``ONDA_TINY=1``,
    smoke-test sizes: :mod:`mmseg_ext.apis.tiny`)."""
    cfg = read_config(args.config, args.cfg_options)
    if is_tiny():
        cfg.merge_from_dict(tiny_cfg_options(cfg))
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif not cfg.get('work_dir'):
        cfg.work_dir = default_work_dir(args.config)
    if args.resume_from is not None:
        cfg.resume_from = args.resume_from
    if args.load_from is not None:
        cfg.load_from = args.load_from
    if args.trusted_checkpoint:
        cfg.trusted_checkpoint = True
    cfg.launcher = args.launcher
    return cfg


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    cfg = load_config(args)
    if is_online_cfg(cfg):
        if args.launcher != 'none':
            raise ValueError(f'{args.config} is an online run (runner {cfg.runner.type}): '
                             f'the stream is single-process; use --launcher none '
                             f'(got --launcher {args.launcher})')
        if args.seed is not None:
            cfg.seed = args.seed
        cfg.deterministic = args.deterministic or cfg.get('deterministic', False)
        command = ' '.join(shlex.quote(a) for a in ['python', 'tools/train.py'] + [
            a for a in argv if a not in ('--overwrite', '--force-resume')])
        return train_online(cfg, overwrite=args.overwrite,
                            force_resume=args.force_resume, command=command)
    distributed = init_launcher(args.launcher, cfg.get('dist_params'))
    return train_source(cfg, distributed=distributed, validate=not args.no_validate,
                        seed=args.seed, deterministic=args.deterministic,
                        config_name=osp.basename(args.config))


if __name__ == '__main__':
    main()
