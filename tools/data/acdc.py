"""Check ACDC: images per condition and split against the published counts (400 train,
100 val (night 106), 500 test each), a train-id label per labelled image.

Example::

    python tools/data/acdc.py data/acdc
    # then: --cfg-options acdc_root=data/acdc
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mmseg_ext.datasets import prepare  # noqa: E402


def main(argv=None):
    parser = prepare.prep_arg_parser(__doc__.splitlines()[0],
                                     'unpacked rgb_anon_trainvaltest.zip + gt_trainval.zip',
                                     splits=('train', 'val', 'test'))
    parser.add_argument('--conditions', nargs='+', default=list(prepare.ACDC_COUNTS))
    args = parser.parse_args(argv)
    report = prepare.prepare_acdc(args.root, conditions=args.conditions, splits=args.splits,
                                  expected=prepare.expected_from_args(args, prepare.ACDC_COUNTS))
    return prepare.report_and_exit_code(report)


if __name__ == '__main__':
    sys.exit(main())
