"""Render the ProcCity clear set (images, trainId labels, depth, cameras) in the
Cityscapes layout.

Example::

    python tools/data/proccity.py data/proccity --train 400 --val 40 --test 60 --size 128 256
    python tools/data/proccity.py data/proccity_target --style target --train 0 --val 100

``--test`` renders held-out stream scenes (the online configs stream the `test`
split). With ``ONDA_TINY=1`` at most a few images per split are rendered at 64x128
(:mod:`mmseg_ext.apis.tiny`).
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
                        help='test images (leftImg8bit/test: the scenes online runs '
                             'stream; none by default)')
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
    from mmseg_ext.apis.tiny import TINY_SIZE, is_tiny, tiny_splits
    from mmseg_ext.datasets.synth import write_proccity
    splits = {'train': args.train, 'val': args.val}
    if args.test:
        splits['test'] = args.test
    size = tuple(args.size)
    if is_tiny():
        splits, size = tiny_splits(splits), TINY_SIZE
    meta = write_proccity(args.out_dir, splits, size=size, seed=args.seed,
                          workers=args.workers, progress=not args.no_progress,
                          style=args.style)
    print(f'wrote {sum(meta["splits"].values())} ProcCity ({args.style}) images to '
          f'{args.out_dir}')


if __name__ == '__main__':
    main()
