"""Count the parameters of a model config.

    python tools/get_param_count.py CONFIG [--checkpoint F] [--trainable-only] [--json]
        [--depth N]

Prints a table by module (3.7M, 512K) with total and trainable counts, or with
``--json`` a JSON object with at least ``total`` and ``trainable``. EMA teachers and
other reference networks of adaptation methods are excluded. The logic is
:mod:`mmseg_ext.apis.param_count`.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_ext  # noqa: E402,F401
from mmseg_ext.apis.param_count import count_from_config, param_table  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Count the parameters of a config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--checkpoint', help='checkpoint to load first')
    parser.add_argument('--trainable-only', action='store_true',
                        help='only trainable parameters')
    parser.add_argument('--json', action='store_true', help='print JSON')
    parser.add_argument('--depth', type=int, default=2,
                        help='levels of submodules with their own row')
    parser.add_argument('--trusted-checkpoint', action='store_true',
                        help='fully unpickle --checkpoint (only for files you trust)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    counts = count_from_config(args.config, args.checkpoint, args.depth,
                               args.trusted_checkpoint)
    if args.json:
        rows = [dict(module=n, params=p, trainable=t) for n, p, t in counts['rows']
                if t or not args.trainable_only]
        print(json.dumps(dict(config=args.config, total=counts['total'],
                              trainable=counts['trainable'], modules=rows,
                              peft={k: dict(params=n, trainable=t)
                                    for k, (n, t) in counts['peft'].items()},
                              excluded=counts['excluded']), indent=1))
    else:
        print(param_table(counts, args.trainable_only))
        for name, n in counts['excluded'].items():
            print(f'excluded: {name} ({n:,} parameters, not deployed)')
    return counts


if __name__ == '__main__':
    main()
