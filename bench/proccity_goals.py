"""The ProcCity benchmark's goals (issue 16), each printed with its number and numbers.

    python bench/proccity_goals.py work_dirs/proccity_benchmark [REPORT_OR_DIR ...]
        [--acdc-protocol acdc] [--json goals.json]

Reads the ``report.json`` of every protocol of a finished benchmark
(``bench/proccity_benchmark.py``, ``make demo``) and prints goals 1-4; the logic is
:mod:`mmseg_ext.core.evaluation.goals`. Exit status 0 whatever the verdicts.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg_ext.core.evaluation.goals import (evaluate_goals, goal_lines,  # noqa: E402
                                             load_reports)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('reports', nargs='+',
                        help='benchmark work roots or report.json files')
    parser.add_argument('--acdc-protocol', default='acdc',
                        help='protocol (report folder) of the published-signs goal')
    parser.add_argument('--json', help='also write the goals as JSON here')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    goals = evaluate_goals(load_reports(args.reports), acdc_protocol=args.acdc_protocol)
    print('\n'.join(goal_lines(goals)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(goals, f, indent=1)
    return goals


if __name__ == '__main__':
    main()
