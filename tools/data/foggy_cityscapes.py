"""Check Foggy Cityscapes (a separate tree without labels): every beta and split
against the Cityscapes counts, labels in the Cityscapes root.

Example::

    python tools/data/foggy_cityscapes.py data/foggy_cityscapes --cityscapes data/cityscapes
    # then: --cfg-options foggy_cityscapes_root=data/foggy_cityscapes
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mmseg_ext.datasets import prepare  # noqa: E402


def main(argv=None):
    parser = prepare.prep_arg_parser(__doc__.splitlines()[0],
                                     'the unpacked leftImg8bit_trainvaltest_foggy.zip',
                                     label_check=True)
    parser.add_argument('--betas', type=float, nargs='+', default=list(prepare.FOGGY_BETAS))
    args = parser.parse_args(argv)
    report = prepare.prepare_foggy_cityscapes(
        args.root, args.cityscapes, betas=args.betas, splits=args.splits,
        expected=prepare.expected_from_args(args, prepare.CITYSCAPES_COUNTS))
    return prepare.report_and_exit_code(report)


if __name__ == '__main__':
    sys.exit(main())
