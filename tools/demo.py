"""`make demo`: ProcCity data, a MiT-B0 source model, then source-only, AdaBN, the
labelled oracle, TENT and DACS online over a reduced ACDC-like
stream (fog, night, rain, snow x 3 rounds); report with 95% intervals and the
benchmark goals in work_dirs/demo/.

    python tools/demo.py [--config configs/online/demo.py] [--cfg-options k=v ...]

All the work happens in :func:`online_src.apis.demo.run_demo`.
"""
import argparse
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmcv import Config, DictAction  # noqa: E402

import mmseg_ext  # noqa: E402,F401  (compat fixes, registrations)
import online_src  # noqa: E402,F401  (OnlineRunner, ProgressBarHook)
from online_src.apis.demo import run_demo  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=osp.join(ROOT, 'configs', 'online', 'demo.py'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override demo keys, e.g. demo.work_root=work_dirs/demo2')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.chdir(ROOT)  # configs name data/, pretrained/ and work_dirs/ relative to the repo
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return run_demo(cfg)


if __name__ == '__main__':
    main()
