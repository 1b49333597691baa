"""Write DAFormer-style class statistics of a label set for rare-class sampling.

Writes ``sample_class_stats.json`` and ``samples_with_class.json`` into the data
root (file paths relative to it), which ``SourceDataset`` reads.

Example::

    python tools/data/class_stats.py data/proccity --ann-dir gtFine/train
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='data root (stats are written here)')
    parser.add_argument('--ann-dir', default='gtFine/train', help='labels, relative to root')
    parser.add_argument('--suffix', default='_gtFine_labelTrainIds.png', help='label suffix')
    parser.add_argument('--num-classes', type=int, default=19)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmseg_ext.datasets.rare_class_sampling import compute_class_stats, write_class_stats
    stats = compute_class_stats(args.root, args.ann_dir, args.suffix,
                                num_classes=args.num_classes, workers=args.workers)
    write_class_stats(args.root, stats)
    print(f'wrote class statistics of {len(stats)} labels to {args.root}')


if __name__ == '__main__':
    main()
