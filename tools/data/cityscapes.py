"""Prepare Cityscapes: train ids (cityscapesscripts) and rare-class statistics, then
check the published counts (2975 train / 500 val) and print what is missing.

Example::

    python tools/data/cityscapes.py data/cityscapes --workers 8
    # then: --cfg-options cityscapes_root=data/cityscapes
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='unpacked leftImg8bit_trainvaltest.zip + gtFine_trainvaltest.zip')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'])
    parser.add_argument('--expect-counts', choices=['published', 'none'], default='published',
                        help="'none' skips the count check (small subsets)")
    parser.add_argument('--overwrite', action='store_true', help='redo existing train ids')
    parser.add_argument('--no-class-stats', action='store_true',
                        help='do not write the rare-class statistics of gtFine/train')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmseg_ext.datasets.prepare import (CITYSCAPES_COUNTS, prepare_cityscapes,
                                            report_and_exit_code)
    report = prepare_cityscapes(
        args.root, splits=args.splits, overwrite=args.overwrite,
        expected=CITYSCAPES_COUNTS if args.expect_counts == 'published' else None,
        class_stats=not args.no_class_stats, workers=args.workers)
    return report_and_exit_code(report)


if __name__ == '__main__':
    sys.exit(main())
