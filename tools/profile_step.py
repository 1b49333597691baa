"""Profile the online adaptation step per phase (line_profiler), one or more configs.

    python tools/profile_step.py CONFIG [CONFIG ...] [--steps N] [--warmup W]
        [--domain NAME] [--names A B] [--json OUT.json] [--lines]
        [--cfg-options k=v ...]

Runs W unprofiled then N profiled adaptation steps of each config on frames of the
target domain NAME (default: the first of runner.domain_order) and prints, per
phase of the step (EMA update, source forward, pseudo-labelling, mixing, mixed
forward, backward, optimizer step, ...), the time per hit and the share of the
step, configs side by side (e.g. full fine-tuning vs. a frozen backbone with
adapters). --json writes every number, including the per-line timings.
On CUDA, CUDA_LAUNCH_BLOCKING=1 is set so each line's time is its kernels' time.
"""
import argparse
import json
import logging
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
os.environ.setdefault('CUDA_LAUNCH_BLOCKING', '1')

from mmcv import DictAction  # noqa: E402
from mmcv.utils import get_logger  # noqa: E402

import mmseg_ext  # noqa: E402,F401  (compat fixes, registrations)
from mmseg_ext.apis.config import load_config  # noqa: E402
from online_src.apis.profile import format_profiles, profile_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', help='online config file(s)')
    parser.add_argument('--steps', type=int, default=10, help='profiled steps')
    parser.add_argument('--warmup', type=int, default=2, help='unprofiled steps first')
    parser.add_argument('--domain', help='target domain streamed (default: first '
                        'of runner.domain_order)')
    parser.add_argument('--names', nargs='+', help='column names (default: file names)')
    parser.add_argument('--device', choices=['cpu', 'cuda'], help='default: CUDA if there')
    parser.add_argument('--json', help='write the profiles as JSON here')
    parser.add_argument('--lines', action='store_true',
                        help='also print the per-line timings')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override keys of every config')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    get_logger('mmcv').setLevel(logging.WARNING)  # no per-parameter init report
    names = args.names or [osp.splitext(osp.basename(c))[0] for c in args.configs]
    if len(names) != len(args.configs):
        raise ValueError(f'--names gives {len(names)} names for {len(args.configs)} configs')
    profiles = []
    for cfg_file, name in zip(args.configs, names):
        cfg = load_config(cfg_file, args.cfg_options)
        profiles.append(profile_config(cfg, args.steps, args.warmup, args.domain,
                                       args.device, name=name, progress=True))
    print(format_profiles(profiles))
    if args.lines:
        for prof in profiles:
            print(f'\n{prof["name"]}: per line (ms over {prof["steps"]} steps)')
            for line in sorted(prof['lines'], key=lambda r: -r['ms'])[:25]:
                print(f'{line["ms"]:10.2f} {line["hits"]:5d}  {line["file"]}:'
                      f'{line["line"]:<5d} [{line["phase"]}] {line["code"]}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(profiles, f, indent=1)
    return profiles


if __name__ == '__main__':
    main()
