"""Check Foggy Cityscapes (a separate tree without labels): every beta and split
against the Cityscapes counts, labels in the Cityscapes root.

Example::

    python tools/data/foggy_cityscapes.py data/foggy_cityscapes --cityscapes data/cityscapes
    # then: --cfg-options foggy_cityscapes_root=data/foggy_cityscapes
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the unpacked leftImg8bit_trainvaltest_foggy.zip')
    parser.add_argument('--cityscapes', default=None,
                        help='prepared Cityscapes root (labels); omitted: labels not checked')
    parser.add_argument('--betas', type=float, nargs='+', default=[0.005, 0.01, 0.02])
    parser.add_argument('--splits', nargs='+', default=['train', 'val'])
    parser.add_argument('--expect-counts', choices=['published', 'none'], default='published',
                        help="'none' skips the count check (small subsets)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmseg_ext.datasets.prepare import (CITYSCAPES_COUNTS, prepare_foggy_cityscapes,
                                            report_and_exit_code)
    report = prepare_foggy_cityscapes(
        args.root, args.cityscapes, betas=args.betas, splits=args.splits,
        expected=CITYSCAPES_COUNTS if args.expect_counts == 'published' else None)
    return report_and_exit_code(report)


if __name__ == '__main__':
    sys.exit(main())
