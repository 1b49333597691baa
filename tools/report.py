"""Compare online runs: Markdown tables of mean / non-clear / per-domain mIoU with
bootstrap 95% confidence intervals, forgetting, FPS.

    python tools/report.py WORK_DIR [WORK_DIR ...] [--names A B ...] [--out-dir DIR]
        [--baselines source_only adabn oracle]

Prints the table; with ``--out-dir`` also writes ``report.md``, ``report.json`` and
``miou_stream.png`` (runs overlaid). Logic: :func:`mmseg_ext.core.evaluation.compare_runs`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg_ext.core.evaluation import compare_runs  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+', help='work dirs of online runs')
    parser.add_argument('--names', nargs='+', help='labels of the runs (default: folder names)')
    parser.add_argument('--out-dir', help='also write report.md, report.json, miou_stream.png')
    parser.add_argument('--baselines', nargs='*', default=[],
                        help='run names the report must have (an error names the '
                             'missing ones), e.g. source_only adabn oracle')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    summaries, text = compare_runs(args.work_dirs, args.names, args.out_dir,
                                  baselines=args.baselines)
    print(text)
    return summaries


if __name__ == '__main__':
    main()
