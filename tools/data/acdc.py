"""Check ACDC: images per condition and split against the published counts (400 train,
100 val (night 106), 500 test each), a train-id label per labelled image.

Example::

    python tools/data/acdc.py data/acdc
    # then: --cfg-options acdc_root=data/acdc
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='unpacked rgb_anon_trainvaltest.zip + gt_trainval.zip')
    parser.add_argument('--conditions', nargs='+', default=['fog', 'night', 'rain', 'snow'])
    parser.add_argument('--splits', nargs='+', default=['train', 'val', 'test'])
    parser.add_argument('--expect-counts', choices=['published', 'none'], default='published',
                        help="'none' skips the count check (small subsets)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmseg_ext.datasets.prepare import ACDC_COUNTS, prepare_acdc, report_and_exit_code
    report = prepare_acdc(args.root, conditions=args.conditions, splits=args.splits,
                          expected=ACDC_COUNTS if args.expect_counts == 'published' else None)
    return report_and_exit_code(report)


if __name__ == '__main__':
    sys.exit(main())
