"""Count the parameters of one or more model configs.

    python tools/get_param_count.py CONFIG [CONFIG ...] [--checkpoint F]
        [--trainable-only] [--json] [--depth N]

Prints, per config, a table by module (counts to the thousand: 13.151M, 400.659K)
followed by the exact totals, and with several configs a comparison table; with
``--json`` one JSON object per config (a list when several configs are given) with
exact integer counts. ``--trainable-only`` applies to both: only trainable counts
and rows with trainable parameters. EMA teachers and other reference networks of
adaptation methods are excluded. The logic is :mod:`mmseg_ext.apis.param_count`;
one process counts every config, so the import cost is paid once.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from prettytable import PrettyTable  # noqa: E402

import mmseg_ext  # noqa: E402,F401
from mmseg_ext.apis.param_count import (count_from_config, human_format,  # noqa: E402
                                        param_json, param_table)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Count the parameters of configs')
    parser.add_argument('configs', nargs='+', metavar='config', help='config file(s)')
    parser.add_argument('--checkpoint', help='checkpoint to load first (one config only)')
    parser.add_argument('--trainable-only', action='store_true',
                        help='only trainable parameters (table and JSON)')
    parser.add_argument('--json', action='store_true', help='print JSON')
    parser.add_argument('--depth', type=int, default=2,
                        help='levels of submodules with their own row')
    parser.add_argument('--trusted-checkpoint', action='store_true',
                        help='fully unpickle --checkpoint (only for files you trust)')
    args = parser.parse_args(argv)
    if args.checkpoint and len(args.configs) > 1:
        parser.error(f'--checkpoint loads one model: give one config, got '
                     f'{len(args.configs)}')
    return args


def main(argv=None):
    args = parse_args(argv)
    results = [count_from_config(c, args.checkpoint, args.depth, args.trusted_checkpoint)
               for c in args.configs]
    if args.json:
        out = [param_json(c, path, args.trainable_only)
               for c, path in zip(results, args.configs)]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=1))
        return results
    for path, counts in zip(args.configs, results):
        table = param_table(counts, args.trainable_only)
        table.title = path
        print(table)
        exact = f"trainable {counts['trainable']:,}"
        print(f'exact: {exact}' if args.trainable_only
              else f"exact: total {counts['total']:,}, {exact}")
        for name, n in counts['excluded'].items():
            print(f'excluded: {name} ({n:,} parameters, not deployed)')
    if len(results) > 1:
        summary = PrettyTable(['config', 'trainable'] if args.trainable_only
                              else ['config', 'params', 'trainable'])
        summary.align['config'] = 'l'
        for path, c in zip(args.configs, results):
            t = human_format(c['trainable'])
            summary.add_row([path, t] if args.trainable_only
                            else [path, human_format(c['total']), t])
        print(summary)
    return results


if __name__ == '__main__':
    main()
