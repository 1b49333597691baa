"""Prepare Cityscapes: train ids (cityscapesscripts) and rare-class statistics, then
check the published counts (2975 train / 500 val) and print what is missing.

Example::

    python tools/data/cityscapes.py data/cityscapes --workers 8
    # then: --cfg-options cityscapes_root=data/cityscapes
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mmseg_ext.datasets import prepare  # noqa: E402


def parse_args(argv=None):
    parser = prepare.prep_arg_parser(
        __doc__.splitlines()[0],
        'unpacked leftImg8bit_trainvaltest.zip + gtFine_trainvaltest.zip')
    parser.add_argument('--overwrite', action='store_true', help='redo existing train ids')
    parser.add_argument('--no-class-stats', action='store_true',
                        help='do not write the rare-class statistics of gtFine/train')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = prepare.prepare_cityscapes(
        args.root, splits=args.splits, overwrite=args.overwrite,
        expected=prepare.expected_from_args(args, prepare.CITYSCAPES_COUNTS),
        class_stats=not args.no_class_stats, workers=args.workers)
    return prepare.report_and_exit_code(report)


if __name__ == '__main__':
    sys.exit(main())
