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
    parser.add_argument('--colors', type=int, default=256,
                        help='palette size of the PNGs, small files for docs/ (0: 24-bit)')
    return parser.parse_args(argv)


def _save(path, rgb, colors):
    from PIL import Image
    img = Image.fromarray(rgb)
    if colors:
        img = img.quantize(colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    img.save(path, optimize=True)


def main(argv=None):
    args = parse_args(argv)
    from mmseg_ext.datasets.synth.sheets import SHEET_LEVELS, contact_sheet, style_sheet
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for cond in args.conditions or SHEET_LEVELS:
        path = os.path.join(args.out_dir, f'{cond}.png')
        _save(path, contact_sheet(cond, args.seeds, tuple(args.size)), args.colors)
        written.append(path)
    path = os.path.join(args.out_dir, 'cities.png')
    _save(path, style_sheet(size=tuple(args.size)), args.colors)
    written.append(path)
    print('\n'.join(written))


if __name__ == '__main__':
    main()
