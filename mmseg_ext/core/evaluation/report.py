"""Comparison of online runs: the numbers of the OnDA / HAMLET tables.

A run's work dir holds ``results.json`` (one row per evaluation, written by
:class:`~mmseg_ext.core.evaluation.OnlineEvalHook`, read by
:func:`~mmseg_ext.core.evaluation.results.load_rows`) and ``summary.json`` (timing,
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
  adapted frames and of inference-only frames;
* ``init_per_domain``: each domain's mIoU at the evaluation before the stream
  (the source model);
* ``ci``: bootstrap 95% confidence intervals of ``mIoU``, ``rain_mIoU``,
  ``per_domain`` and ``init_per_domain`` (see :func:`bootstrap_samples`), when the
  run kept its per-image areas.

Confidence intervals: the percentile bootstrap over the held-out images (Efron and
Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13). Each sample draws a
domain's images with replacement, sums their per-image areas (the diagonal and
marginals of the confusion matrices) and recomputes the mIoU from the sums, as the
evaluation does; aggregates (means over visits) are recomputed per sample. A
domain's draws depend only on the seed and the domain name, so every run of a
report is resampled with the same images (a paired bootstrap).
"""
import json
import os.path as osp
import zlib
from collections import OrderedDict

import numpy as np

from .results import load_rows

__all__ = ['summarize_run', 'report_markdown', 'check_baselines', 'compare_runs',
           'miou_from_areas', 'bootstrap_weights', 'bootstrap_samples',
           'confidence_interval', 'BOOTSTRAP']

# Bootstrap settings of every report: resamples, seed, interval level.
BOOTSTRAP = dict(samples=1000, seed=0, level=0.95)


def _mean(values):
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(values)) if values else float('nan')


def miou_from_areas(areas):
    """mIoU in percent from summed (intersect, union, pred, label) areas.

    Args:
        areas (np.ndarray): ``(..., 4, classes)``; classes with no union (absent
            from prediction and label) are left out of the mean, as in mmseg's
            ``total_area_to_metrics``.

    Returns:
        np.ndarray: ``(...)`` mIoU values (nan where no class has a union).
    """
    areas = np.asarray(areas, dtype=np.float64)
    inter, union = areas[..., 0, :], areas[..., 1, :]
    valid = union > 0
    iou = np.where(valid, inter / np.where(valid, union, 1.0), 0.0)
    count = valid.sum(-1)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(count > 0, 100.0 * iou.sum(-1) / count, np.nan)


def bootstrap_weights(n_images, key, samples=BOOTSTRAP['samples'], seed=BOOTSTRAP['seed']):
    """How many times each image is drawn in each bootstrap sample.

    Args:
        n_images (int): images of the held-out set.
        key (str): the domain name; with ``seed`` it fixes the draws, so every
            run resamples the same images of a domain.
        samples (int): bootstrap samples. Default: 1000.
        seed (int): Default: 0.

    Returns:
        np.ndarray: ``(samples, n_images)`` counts, each row summing to ``n_images``.
    """
    if n_images < 1:
        raise ValueError(f'bootstrap_weights: a held-out set of {key!r} needs images, '
                         f'got {n_images}')
    rng = np.random.default_rng([int(seed), zlib.crc32(key.encode())])
    draws = rng.integers(0, n_images, size=(int(samples), n_images))
    weights = np.zeros((int(samples), n_images))
    np.add.at(weights, (np.arange(int(samples))[:, None], draws), 1.0)
    return weights


def bootstrap_samples(per_image, key, samples=BOOTSTRAP['samples'],
                      seed=BOOTSTRAP['seed']):
    """Bootstrap distribution of the mIoU of one evaluation.

    Args:
        per_image (np.ndarray): ``(images, 4, classes)`` per-image areas.
        key (str): the domain name (see :func:`bootstrap_weights`).
        samples (int): Default: 1000.
        seed (int): Default: 0.

    Returns:
        np.ndarray: ``(samples,)`` mIoU of each resampled set (percent).
    """
    per_image = np.asarray(per_image, dtype=np.float64)
    weights = bootstrap_weights(per_image.shape[0], key, samples, seed)
    summed = (weights @ per_image.reshape(per_image.shape[0], -1)).reshape(
        (weights.shape[0],) + per_image.shape[1:])
    return miou_from_areas(summed)


def confidence_interval(samples, level=BOOTSTRAP['level']):
    """list[float]: the percentile interval ``[low, high]`` of bootstrap samples
    (nan when there are none)."""
    samples = np.asarray(samples, dtype=np.float64)
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return [float('nan'), float('nan')]
    tail = 100.0 * (1.0 - level) / 2.0
    return [float(np.percentile(samples, tail)), float(np.percentile(samples, 100 - tail))]


def _row_samples(work_dir, row, domain):
    """Bootstrap mIoU samples of ``domain`` in an evaluation row, or None when the
    run kept no per-image areas."""
    rel = row.get(f'{domain}.per_image')
    if not rel or not osp.isfile(osp.join(work_dir, rel)):
        return None
    return bootstrap_samples(np.load(osp.join(work_dir, rel)), domain)


def _mean_ci(sample_lists):
    """CI of the mean of several bootstrap distributions (None: no per-image data)."""
    if not sample_lists or any(s is None for s in sample_lists):
        return [float('nan'), float('nan')]
    return confidence_interval(np.mean(np.stack(sample_lists), axis=0))


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
    boot = [_row_samples(work_dir, r, r['after']) for r in visits]
    per_domain, boot_domain = OrderedDict(), OrderedDict()
    for (d, v), b in zip(per_visit, boot):
        per_domain.setdefault(d, []).append(v)
        boot_domain.setdefault(d, []).append(b)
    out = OrderedDict(name=name or osp.basename(osp.normpath(work_dir)),
                      work_dir=work_dir, finished=bool(summary))
    adverse = [domain_values.get(d, 0 if d == 'clear' else 1) != 0 for d, _ in per_visit]
    out['mIoU'] = _mean([v for _, v in per_visit])
    out['rain_mIoU'] = _mean([v for (_, v), a in zip(per_visit, adverse) if a])
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
    init_domains = [k[:-5] for k in init if k.endswith('.mIoU')]
    out['init_per_domain'] = OrderedDict((d, init[f'{d}.mIoU']) for d in init_domains)
    out['ci'] = OrderedDict(
        mIoU=_mean_ci(boot),
        rain_mIoU=_mean_ci([b for b, a in zip(boot, adverse) if a]),
        per_domain=OrderedDict((d, _mean_ci(b)) for d, b in boot_domain.items()),
        init_per_domain=OrderedDict((d, _mean_ci([_row_samples(work_dir, init, d)]))
                                    for d in init_domains))
    timing = summary.get('timing', {})
    for k in ('fps', 'adapt_fps', 'inference_fps', 'step_seconds', 'frames',
              'adapted_frames'):
        out[k] = timing.get(k, float('nan'))
    return out


def _fmt(v):
    return '-' if v is None or (isinstance(v, float) and not np.isfinite(v)) \
        else f'{v:.2f}'


def _fmt_ci(v, ci):
    """``value [low, high]``, or the value alone when there is no interval."""
    if ci is None or not all(np.isfinite(c) for c in ci):
        return _fmt(v)
    return f'{_fmt(v)} [{ci[0]:.2f}, {ci[1]:.2f}]'


def _ci(s, *keys):
    ci = s.get('ci') or {}
    for k in keys:
        ci = (ci or {}).get(k)
    return ci


def check_baselines(names, baselines):
    """Raises ValueError naming the baseline runs missing from ``names``."""
    missing = [b for b in baselines if b not in names]
    if missing:
        raise ValueError(f'report: runs {missing} are missing (got {list(names)}); a '
                         f'benchmark report always has the baselines {list(baselines)} '
                         f'so the room left for adaptation methods is visible')


def report_markdown(summaries, baselines=()):
    """Markdown comparison tables of several run summaries.

    Args:
        summaries (Sequence[dict]): outputs of :func:`summarize_run`.
        baselines (Sequence[str]): run names the report must have (e.g.
            source-only, AdaBN and the labelled oracle); a missing one raises
            ValueError. Default: ().

    Returns:
        str: a summary table, a per-domain table (held-out mIoU after the visit
        with its bootstrap 95% CI / stream mIoU) and the source model's held-out
        mIoU before the stream.
    """
    check_baselines([s['name'] for s in summaries], baselines)
    lines = ['Held-out mIoU (%) with bootstrap 95% confidence intervals [low, high] '
             f'({BOOTSTRAP["samples"]} resamples of the held-out images, seed '
             f'{BOOTSTRAP["seed"]}).', '',
             '| run | mIoU after each visit, mean over visits | same, non-clear visits | '
             'stream mIoU (online, before adapting) | first domain of the order: last - '
             'first visit | first domain: last visit - before stream | frames/s | '
             'adapted frames/s | '
             'inference-only frames/s |',
             '|---|---|---|---|---|---|---|---|---|']
    for s in summaries:
        lines.append(f'| {s["name"]} | {_fmt_ci(s["mIoU"], _ci(s, "mIoU"))} | '
                     f'{_fmt_ci(s["rain_mIoU"], _ci(s, "rain_mIoU"))} | '
                     f'{_fmt(s["stream_mIoU"])} | {_fmt(s["final_minus_first"])} | '
                     f'{_fmt(s["final_minus_initial"])} | {_fmt(s["fps"])} | '
                     f'{_fmt(s["adapt_fps"])} | {_fmt(s["inference_fps"])} |')
    domains = []
    for s in summaries:
        for d in s['per_domain']:
            if d not in domains:
                domains.append(d)
    lines += ['', 'Per domain: held-out mIoU after the visit, mean over visits '
              '[95% CI] / stream mIoU (online prediction before adapting)', '',
              '| run | ' + ' | '.join(domains) + ' |',
              '|---|' + '---|' * len(domains)]
    for s in summaries:
        cells = [f'{_fmt_ci(s["per_domain"].get(d), _ci(s, "per_domain", d))} / '
                 f'{_fmt(s["stream_per_domain"].get(d))}' for d in domains]
        lines.append(f'| {s["name"]} | ' + ' | '.join(cells) + ' |')
    init = [s for s in summaries if s.get('init_per_domain')]
    if init:
        first = init[0]
        names = list(first['init_per_domain'])
        lines += ['', 'Source model before the stream: held-out mIoU per domain [95% CI]',
                  '', '| domain | ' + ' | '.join(names) + ' |',
                  '|---|' + '---|' * len(names),
                  f'| before the stream ({first["name"]}) | ' + ' | '.join(
                      _fmt_ci(first['init_per_domain'][d],
                              _ci(first, 'init_per_domain', d)) for d in names) + ' |']
    return '\n'.join(lines) + '\n'


def compare_runs(work_dirs, names=None, out_dir=None, baselines=()):
    """Summaries, Markdown table and overlaid plot of several runs.

    Args:
        work_dirs (Sequence[str]): the runs' work dirs.
        names (Sequence[str] | None): labels; None uses the folder names.
        baselines (Sequence[str]): run names the report must have (see
            :func:`report_markdown`); checked before any run is read. Default: ().
        out_dir (str | None): where ``report.md``, ``report.json`` and
            ``miou_stream.png`` (methods overlaid) are written; None writes nothing.

    Returns:
        tuple[list[dict], str]: the summaries and the Markdown text.
    """
    from .results import atomic_write, atomic_write_json, plot_stream
    names = list(names) if names is not None else [None] * len(work_dirs)
    if len(names) != len(work_dirs):
        raise ValueError(f'{len(names)} names for {len(work_dirs)} work dirs')
    check_baselines([n or osp.basename(osp.normpath(w)) for w, n in zip(work_dirs, names)],
                    baselines)
    summaries = [summarize_run(w, n) for w, n in zip(work_dirs, names)]
    text = report_markdown(summaries, baselines)
    if out_dir is not None:
        atomic_write(text, osp.join(out_dir, 'report.md'))
        atomic_write_json({s['name']: s for s in summaries},
                          osp.join(out_dir, 'report.json'))
        plot_stream(None, osp.join(out_dir, 'miou_stream.png'),
                    runs={s['name']: load_rows(s['work_dir']) for s in summaries})
    return summaries, text
