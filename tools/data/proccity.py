"""Render the ProcCity clear set (images, trainId labels, depth, cameras) in the
Cityscapes layout.

Example::

    python tools/data/proccity.py data/proccity --train 400 --val 40 --size 128 256 --seed 0
    python tools/data/proccity.py data/proccity_target --style target --train 0 --val 100
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='output root (created)')
    parser.add_argument('--train', type=int, default=400, help='train images')
    parser.add_argument('--val', type=int, default=40, help='val images')
    parser.add_argument('--test', type=int, default=0,
                        help='test images (leftImg8bit/test; none by default)')
    parser.add_argument('--size', type=int, nargs=2, default=[128, 256], metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--style', '--city', dest='style', choices=['source', 'target'],
                        default='source',
                        help='city style: the default source city or the target city '
                             '(another palette, lighting, layout and class mix)')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='rendering processes')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmseg_ext.datasets.synth import write_proccity
    splits = {'train': args.train, 'val': args.val}
    if args.test:
        splits['test'] = args.test
    meta = write_proccity(args.out_dir, splits, size=tuple(args.size), seed=args.seed,
                          workers=args.workers, progress=not args.no_progress,
                          style=args.style)
    print(f'wrote {sum(meta["splits"].values())} ProcCity ({args.style}) images to '
          f'{args.out_dir}')


if __name__ == '__main__':
    main()
