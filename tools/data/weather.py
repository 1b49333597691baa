"""Render rain (mm/h), fog (visibility in m) and graded conditions (severity 1..5) of a
clear set that has depth, cameras and labels.

Example::

    python tools/data/weather.py data/proccity --rain 25 50 75 100 200 --fog 750 375 150 75 \
        --night 1 3 5 --wet 1 2 3 4 5 --snow 1 3 5 --lensdrops 3 --motionblur 5
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

#: The graded conditions (mmseg_ext.datasets.synth.conditions.CONDITIONS), one option each.
CONDITION_OPTIONS = ('night', 'wet', 'snow', 'lensdrops', 'motionblur')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='root with leftImg8bit/, depth/, camera/ and gtFine/')
    parser.add_argument('--rain', type=float, nargs='*', default=[25, 50, 75, 100, 200],
                        help='rain rates in mm/h')
    parser.add_argument('--fog', type=float, nargs='*', default=[750, 375, 150, 75],
                        help='fog visibilities in m')
    for cond in CONDITION_OPTIONS:
        parser.add_argument(f'--{cond}', type=int, nargs='*', default=[], metavar='S',
                            help=f'{cond} severities (1..5, 5 hardest)')
    parser.add_argument('--splits', nargs='+', default=None,
                        help='splits to render (default: every split present)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmseg_ext.datasets.synth import write_weather
    conditions = {c: getattr(args, c) for c in CONDITION_OPTIONS if getattr(args, c)}
    n = write_weather(args.root, rain=args.rain, fog=args.fog, splits=args.splits,
                      seed=args.seed, workers=args.workers, progress=not args.no_progress,
                      conditions=conditions)
    print(f'rendered weather for {n} images under {args.root}')


if __name__ == '__main__':
    main()
