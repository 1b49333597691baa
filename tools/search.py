"""Genetic hyper-parameter search over online runs (Optuna NSGA-II by default).

    python tools/search.py CONFIG [--n-trials N] [--storage URL] [--study-name S]
                           [--worker-id K] [--report-only] [--cfg-options k=v ...]

CONFIG inherits ``configs/_base_/search/nsga2.py`` and declares ``search.params``.
Start the same command on several machines with a ``postgresql://`` storage (or in
several shells with the default SQLite file) and distinct ``--worker-id`` to share one
study. At the end prints the best trial(s) and writes ``pareto.png`` (trials
labelled, axes with units) and ``best.json`` (per Pareto trial: metrics, sampled
values, work dir and the ``tools/train.py`` command that reruns it) under
``search.work_dir/<study name>/``.
"""
import argparse

from mmcv import DictAction

import mmseg_ext  # noqa: F401  (registers the project's components)
from mmseg_ext.apis.config import load_config
from online_src.apis.search import load_study, report_search, run_search


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file with a search section')
    parser.add_argument('--n-trials', type=int, help='trials this worker adds '
                        '(default: search.n_trials)')
    parser.add_argument('--storage', help='study URL (default: search.storage)')
    parser.add_argument('--study-name', help='default: search.study_name')
    parser.add_argument('--worker-id', type=int, default=0,
                        help='index of this worker (offsets the sampler seed)')
    parser.add_argument('--report-only', action='store_true',
                        help='print the best trials and plot, run no trial')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. search.n_trials=4')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if args.report_only:
        study = load_study(cfg, storage=args.storage, study_name=args.study_name)
    else:
        study = run_search(cfg, n_trials=args.n_trials, worker_id=args.worker_id,
                           storage=args.storage, study_name=args.study_name)
    return report_search(study, cfg, cfg_options=args.cfg_options)


if __name__ == '__main__':
    main()
