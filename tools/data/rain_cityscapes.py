"""Check the rainy Cityscapes of the increasing storm (a separate tree without labels):
every rain rate and split against the Cityscapes counts, labels in the Cityscapes root.

Example::

    python tools/data/rain_cityscapes.py data/rain_cityscapes --cityscapes data/cityscapes
    # then: --cfg-options rain_cityscapes_root=data/rain_cityscapes cityscapes_root=data/cityscapes
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mmseg_ext.datasets import prepare  # noqa: E402


def parse_args(argv=None):
    parser = prepare.prep_arg_parser(
        __doc__.splitlines()[0], 'the unpacked weather-augmented Cityscapes '
        '(leftImg8bit/{split}/rain/{R}mm/rainy_image/<city>/...)', label_check=True)
    parser.add_argument('--rates', type=float, nargs='+', default=list(prepare.RAIN_RATES),
                        help='rain rates in mm/h')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = prepare.prepare_rain_cityscapes(
        args.root, args.cityscapes, rates=args.rates, splits=args.splits,
        expected=prepare.expected_from_args(args, prepare.CITYSCAPES_COUNTS))
    return prepare.report_and_exit_code(report)


if __name__ == '__main__':
    sys.exit(main())
