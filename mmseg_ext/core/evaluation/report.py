"""Comparison of online runs: the numbers of the OnDA / HAMLET tables.

A run's work dir holds ``results.json`` (one row per evaluation, written by
:class:`~mmseg_ext.core.evaluation.OnlineEvalHook`) and ``summary.json`` (timing,
stream accuracy, domain values; written by the runner at the end). From them:

* ``mIoU``: mean over the visits of the mIoU of the domain just streamed,
  evaluated right after its visit (the OnDA/HAMLET stream average);
* ``rain_mIoU``: the same over visits of domains whose ``domain`` value is not 0
  (every non-clear domain);
* ``per_domain``: that mIoU per domain name (mean over its visits);
* ``stream_per_domain``: stream accuracy (prediction before adapting) per domain;
* ``final_minus_first``: mIoU of the first domain of the order after its last
  visit minus after its first visit (forgetting when the stream returns to
  clear; negative is worse); ``final_minus_initial``: the same against the
  evaluation before the stream;
* ``fps``, ``adapt_fps``, ``inference_fps``: frames/s of the whole stream, of
  adapted frames and of inference-only frames.
"""
import json
import os.path as osp
from collections import OrderedDict

import numpy as np

__all__ = ['summarize_run', 'report_markdown', 'load_rows', 'compare_runs']


def load_rows(work_dir):
    """list[dict]: the evaluation rows of a run (``results.json``)."""
    path = osp.join(work_dir, 'results.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{work_dir} has no results.json: not an online run '
                                f'work dir, or no evaluation finished yet')
    with open(path) as f:
        return json.load(f)


def _mean(values):
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(values)) if values else float('nan')


def summarize_run(work_dir, name=None):
    """Summary metrics of one run.

    Args:
        work_dir (str): the run's work dir.
        name (str | None): label of the run. Default: the folder name.

    Returns:
        OrderedDict: see the module docstring.
    """
    rows = load_rows(work_dir)
    summary = {}
    spath = osp.join(work_dir, 'summary.json')
    if osp.isfile(spath):
        with open(spath) as f:
            summary = json.load(f)
    domain_values = summary.get('domain_values', {})
    visits = [r for r in rows if r.get('visit', -1) >= 0 and f'{r["after"]}.mIoU' in r]
    per_visit = [(r['after'], r[f'{r["after"]}.mIoU']) for r in visits]
    per_domain = OrderedDict()
    for d, v in per_visit:
        per_domain.setdefault(d, []).append(v)
    out = OrderedDict(name=name or osp.basename(osp.normpath(work_dir)),
                      work_dir=work_dir, finished=bool(summary))
    out['mIoU'] = _mean([v for _, v in per_visit])
    out['rain_mIoU'] = _mean([v for d, v in per_visit
                              if domain_values.get(d, 0 if d == 'clear' else 1) != 0])
    out['per_domain'] = OrderedDict((d, _mean(v)) for d, v in per_domain.items())
    out['per_visit'] = [[d, v] for d, v in per_visit]
    out['stream_per_domain'] = OrderedDict(
        (d, m['mIoU']) for d, m in summary.get('stream_accuracy', {}).items())
    out['stream_mIoU'] = _mean(list(out['stream_per_domain'].values()))
    order = summary.get('domain_order') or [d for d, _ in per_visit]
    first = order[0] if order else None
    firsts = [v for d, v in per_visit if d == first]
    out['final_minus_first'] = (firsts[-1] - firsts[0]) if len(firsts) >= 2 \
        else float('nan')
    init = rows[0] if rows and rows[0].get('after') == 'init' else {}
    out['final_minus_initial'] = (firsts[-1] - init[f'{first}.mIoU']) \
        if firsts and f'{first}.mIoU' in init else float('nan')
    out['init_mIoU'] = _mean([init.get(f'{d}.mIoU') for d in per_domain])
    timing = summary.get('timing', {})
    for k in ('fps', 'adapt_fps', 'inference_fps', 'step_seconds', 'frames',
              'adapted_frames'):
        out[k] = timing.get(k, float('nan'))
    return out


def _fmt(v):
    return '-' if v is None or (isinstance(v, float) and not np.isfinite(v)) \
        else f'{v:.2f}'


def report_markdown(summaries):
    """Markdown comparison tables of several run summaries.

    Args:
        summaries (Sequence[dict]): outputs of :func:`summarize_run`.

    Returns:
        str: a summary table and a per-domain table (held-out mIoU / stream
        accuracy).
    """
    lines = ['| run | mIoU stream | mIoU rain | stream acc | final-first clear | '
             'final-initial clear | fps | adapt fps | inference fps |',
             '|---|---|---|---|---|---|---|---|---|']
    for s in summaries:
        lines.append(f'| {s["name"]} | {_fmt(s["mIoU"])} | {_fmt(s["rain_mIoU"])} | '
                     f'{_fmt(s["stream_mIoU"])} | {_fmt(s["final_minus_first"])} | '
                     f'{_fmt(s["final_minus_initial"])} | {_fmt(s["fps"])} | '
                     f'{_fmt(s["adapt_fps"])} | {_fmt(s["inference_fps"])} |')
    domains = []
    for s in summaries:
        for d in s['per_domain']:
            if d not in domains:
                domains.append(d)
    lines += ['', 'Per domain: held-out mIoU after the visit (mean over visits) / '
              'stream accuracy (online prediction before adapting)', '',
              '| run | ' + ' | '.join(domains) + ' |',
              '|---|' + '---|' * len(domains)]
    for s in summaries:
        cells = [f'{_fmt(s["per_domain"].get(d))} / '
                 f'{_fmt(s["stream_per_domain"].get(d))}' for d in domains]
        lines.append(f'| {s["name"]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def compare_runs(work_dirs, names=None, out_dir=None):
    """Summaries, Markdown table and overlaid plot of several runs.

    Args:
        work_dirs (Sequence[str]): the runs' work dirs.
        names (Sequence[str] | None): labels; None uses the folder names.
        out_dir (str | None): where ``report.md``, ``report.json`` and
            ``miou_stream.png`` (methods overlaid) are written; None writes nothing.

    Returns:
        tuple[list[dict], str]: the summaries and the Markdown text.
    """
    from .results import atomic_write, atomic_write_json, plot_stream
    names = list(names) if names is not None else [None] * len(work_dirs)
    if len(names) != len(work_dirs):
        raise ValueError(f'{len(names)} names for {len(work_dirs)} work dirs')
    summaries = [summarize_run(w, n) for w, n in zip(work_dirs, names)]
    text = report_markdown(summaries)
    if out_dir is not None:
        atomic_write(text, osp.join(out_dir, 'report.md'))
        atomic_write_json({s['name']: s for s in summaries},
                          osp.join(out_dir, 'report.json'))
        plot_stream(None, osp.join(out_dir, 'miou_stream.png'),
                    runs={s['name']: load_rows(s['work_dir']) for s in summaries})
    return summaries, text
