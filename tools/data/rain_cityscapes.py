"""Check the rainy Cityscapes of the increasing storm (a separate tree without labels):
every rain rate and split against the Cityscapes counts, labels in the Cityscapes root.

Example::

    python tools/data/rain_cityscapes.py data/rain_cityscapes --cityscapes data/cityscapes
    # then: --cfg-options rain_cityscapes_root=data/rain_cityscapes cityscapes_root=data/cityscapes
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the unpacked weather-augmented Cityscapes '
                        '(leftImg8bit/{split}/rain/{R}mm/rainy_image/<city>/...)')
    parser.add_argument('--cityscapes', default=None,
                        help='prepared Cityscapes root (labels); omitted: labels not checked')
    parser.add_argument('--rates', type=float, nargs='+', default=[25, 50, 75, 100, 200],
                        help='rain rates in mm/h')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'])
    parser.add_argument('--expect-counts', choices=['published', 'none'], default='published',
                        help="'none' skips the count check (small subsets)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmseg_ext.datasets.prepare import (CITYSCAPES_COUNTS, prepare_rain_cityscapes,
                                            report_and_exit_code)
    report = prepare_rain_cityscapes(
        args.root, args.cityscapes, rates=args.rates, splits=args.splits,
        expected=CITYSCAPES_COUNTS if args.expect_counts == 'published' else None)
    return report_and_exit_code(report)


if __name__ == '__main__':
    sys.exit(main())
