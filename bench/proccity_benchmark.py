"""The full ProcCity benchmark in one command: every method (source-only, AdaBN, the
labelled oracle, TENT, DACS, CoTTA) on the increasing storm, the ACDC-like protocol
(3 rounds) and the other conditions, 100 frames per visit, 100 held-out images per
domain, reports with bootstrap 95% intervals and the goals.

    python bench/proccity_benchmark.py [--config configs/online/benchmark.py]
        [--cfg-options benchmark.work_root=work_dirs/b2 ...]

Writes ``<work_root>/<protocol>/<method>/`` (one online run each),
``<work_root>/<protocol>/report.{md,json}``, ``<work_root>/report.md`` (all tables
and the goals) and ``benchmark.json``. Data and the source model are shared with
``make demo`` (cached). Logic: :func:`online_src.apis.demo.run_benchmark`; goals
again, on any finished benchmark: ``bench/proccity_goals.py <work_root>``.
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
from online_src.apis.demo import run_benchmark  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=osp.join(ROOT, 'configs', 'online',
                                                     'benchmark.py'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override benchmark keys, e.g. benchmark.threads=1')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.chdir(ROOT)  # configs name data/, pretrained/ and work_dirs/ relative to the repo
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return run_benchmark(cfg.benchmark)


if __name__ == '__main__':
    main()
