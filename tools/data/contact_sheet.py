"""Render contact sheets of every ProcCity condition at every severity (one PNG each).

Example::

    python tools/data/contact_sheet.py docs/proccity --seeds 0 1 2
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='directory for <condition>.png and cities.png')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='scene seeds, one row each')
    parser.add_argument('--conditions', nargs='+', default=None,
                        help='conditions (default: all)')
    parser.add_argument('--size', type=int, nargs=2, default=[128, 256], metavar=('H', 'W'))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import cv2

    from mmseg_ext.datasets.synth.sheets import SHEET_LEVELS, contact_sheet, style_sheet
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for cond in args.conditions or SHEET_LEVELS:
        path = os.path.join(args.out_dir, f'{cond}.png')
        sheet = contact_sheet(cond, args.seeds, tuple(args.size))
        cv2.imwrite(path, sheet[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
        written.append(path)
    path = os.path.join(args.out_dir, 'cities.png')
    cv2.imwrite(path, style_sheet(size=tuple(args.size))[..., ::-1],
                [cv2.IMWRITE_PNG_COMPRESSION, 9])
    written.append(path)
    print('\n'.join(written))


if __name__ == '__main__':
    main()
