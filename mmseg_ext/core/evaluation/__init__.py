from .goals import PUBLISHED_ACDC, evaluate_goals, goal_lines, load_reports, parse_domain
from .online_eval_hook import EVAL_DOMAINS, OnlineEvalHook
from .plots import domain_label, nan_note, short_names
from .report import (BOOTSTRAP, bootstrap_samples, bootstrap_weights, check_baselines,
                     compare_runs, confidence_interval, miou_from_areas, report_markdown,
                     summarize_run)
from .results import (SUMMARY_METRICS, ResultsTable, atomic_np_save, atomic_write,
                      atomic_write_json, load_rows, plot_stream, stream_curve)
from .stream_accuracy import StreamAccuracy, areas_to_metrics

__all__ = ['EVAL_DOMAINS', 'OnlineEvalHook', 'SUMMARY_METRICS', 'ResultsTable',
           'atomic_np_save', 'atomic_write', 'atomic_write_json', 'plot_stream', 'stream_curve',
           'StreamAccuracy', 'areas_to_metrics', 'compare_runs', 'load_rows', 'report_markdown',
           'summarize_run', 'domain_label', 'nan_note', 'short_names', 'BOOTSTRAP',
           'bootstrap_samples', 'bootstrap_weights',
           'check_baselines', 'confidence_interval', 'miou_from_areas', 'PUBLISHED_ACDC',
           'evaluate_goals', 'goal_lines', 'load_reports', 'parse_domain']
