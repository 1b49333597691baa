"""Render rain (mm/h) and fog (visibility in m) versions of a clear set that has depth.

Example::

    python tools/data/weather.py data/proccity --rain 25 50 75 100 200 --fog 750 375 150 75
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='root with leftImg8bit/ and depth/')
    parser.add_argument('--rain', type=float, nargs='*', default=[25, 50, 75, 100, 200],
                        help='rain rates in mm/h')
    parser.add_argument('--fog', type=float, nargs='*', default=[750, 375, 150, 75],
                        help='fog visibilities in m')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmseg_ext.datasets.synth import write_weather
    n = write_weather(args.root, rain=args.rain, fog=args.fog, splits=args.splits,
                      seed=args.seed, workers=args.workers, progress=not args.no_progress)
    print(f'rendered weather for {n} images under {args.root}')


if __name__ == '__main__':
    main()
