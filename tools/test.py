"""Test a checkpoint on a dataset config (mmseg 0.30's tools/test.py, single process).

Examples::

    # mIoU on the config's data.test (any dataset config)
    python tools/test.py configs/source/segformer_mit-b1_cityscapes.py work_dirs/src/latest.pth \
        --eval mIoU --cfg-options cityscapes_root=data/cityscapes
    # the official Cityscapes evaluation (cityscapesscripts) next to mmseg's mIoU
    python tools/test.py CONFIG CKPT --eval mIoU cityscapes
    # predictions in the official format: label-id PNGs named <city>_<seq>_<frame>_leftImg8bit.png
    python tools/test.py CONFIG CKPT --format-only --eval-options imgfile_prefix=work_dirs/cs_test

All the work happens in :mod:`mmseg_ext.apis.test`; this script only reads arguments.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from mmcv import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_ext  # noqa: E402,F401  (registers the project's components)
from mmseg_ext.apis.config import load_config  # noqa: E402
from mmseg_ext.apis.test import evaluate_checkpoint  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file (its data.test is tested)')
    parser.add_argument('checkpoint', help='checkpoint file (source model or online run)')
    parser.add_argument('--work-dir', help='write the metrics as eval_<time>.json here')
    parser.add_argument('--eval', nargs='+', default=[],
                        help="metrics: mIoU, mDice, mFscore, cityscapes (official)")
    parser.add_argument('--format-only', action='store_true',
                        help='only write Cityscapes-format label-id PNGs '
                             '(--eval-options imgfile_prefix=DIR)')
    parser.add_argument('--eval-options', nargs='+', action=DictAction, default={},
                        help='imgfile_prefix=DIR: where the label-id PNGs go')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. cityscapes_root=data/cityscapes')
    parser.add_argument('--device', default=None, help="'cuda' or 'cpu' (default: CUDA if any)")
    parser.add_argument('--trusted-checkpoint', action='store_true',
                        help='unpickle everything in the checkpoint (files you trust)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    unknown = set(args.eval_options) - {'imgfile_prefix'}
    if unknown:
        raise SystemExit(f'--eval-options: unknown key(s) {sorted(unknown)}; '
                         f'known: imgfile_prefix')
    format_dir = args.eval_options.get('imgfile_prefix')
    if args.format_only and args.eval:
        raise SystemExit('--eval and --format-only cannot be both specified')
    if args.format_only and format_dir is None:
        raise SystemExit('--format-only needs --eval-options imgfile_prefix=DIR')
    if not args.format_only and not args.eval:
        raise SystemExit('nothing to do: pass --eval METRIC... or --format-only')
    cfg = load_config(args.config, args.cfg_options)
    scores = evaluate_checkpoint(cfg, args.checkpoint, metrics=args.eval,
                                 format_dir=format_dir, device=args.device,
                                 trusted=args.trusted_checkpoint)
    for name, values in scores.items():
        shown = {k: round(float(v), 4) for k, v in values.items()
                 if k in ('mIoU', 'mAcc', 'aAcc', 'averageScoreClasses',
                          'averageScoreCategories')}
        print(f'{name}: {shown}')
    if format_dir is not None:
        print(f'Cityscapes-format label-id PNGs written to {format_dir}')
    if args.work_dir:
        os.makedirs(args.work_dir, exist_ok=True)
        path = osp.join(args.work_dir, f'eval_{time.strftime("%Y%m%d_%H%M%S")}.json')
        with open(path, 'w') as f:
            json.dump(dict(config=args.config, checkpoint=args.checkpoint, metric=scores),
                      f, indent=1, default=float)
        print(f'metrics written to {path}')
    return scores


if __name__ == '__main__':
    main()
