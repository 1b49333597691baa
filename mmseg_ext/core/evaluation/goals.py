"""The ProcCity benchmark's goals (issue 16), measured on finished report files.

A benchmark writes one ``report.json`` per protocol (run name -> summary of
:func:`~mmseg_ext.core.evaluation.summarize_run`, with bootstrap 95% intervals).
From them:

1. source-only loses at least ``min_source_drop`` mIoU at the hardest level of
   every condition (held-out clear minus held-out hardest level, both evaluated
   before the stream);
2. the labelled oracle beats AdaBN by at least ``min_oracle_gain`` mIoU on at least
   ``min_oracle_conditions`` conditions (the room gradient-based adaptation has);
3. on every condition at least one pair of methods is separated beyond their
   confidence intervals (the low end of one above the high end of the other);
4. the signs published for Cityscapes -> ACDC (CoTTA, Wang et al., CVPR 2022,
   Table 5, SegFormer-B5: source 56.7 mIoU, BatchNorm-statistics adaptation 52.0,
   TENT decaying over the rounds to 47.8 at round 10, CoTTA 58.6), checked on the
   ACDC-like protocol and reported, never used to tune it.

Domain names give the condition and level: ``<condition><severity>`` (``fog5``,
``night3``), the storm's ``<rate>mm`` (condition ``rain_mmh``, level the rate) and
the fog series' ``fog<visibility>m`` (condition ``fog_m``, level the inverse
visibility); ``clear`` is the reference.
"""
import glob
import json
import os.path as osp
import re
from collections import OrderedDict

import numpy as np

__all__ = ['parse_domain', 'load_reports', 'evaluate_goals', 'goal_lines',
           'PUBLISHED_ACDC']

# CoTTA (CVPR 2022) Table 5, Cityscapes -> ACDC, SegFormer-B5, mean mIoU over the
# 10 rounds of fog, night, rain, snow (TENT: its round-10 mean).
PUBLISHED_ACDC = dict(source=56.7, bn_adapt=52.0, tent_round10=47.8, cotta=58.6)

_SEVERITY = re.compile(r'^([a-z_]+?)(\d+)$')
_RAIN_RATE = re.compile(r'^(\d+(?:\.\d+)?)mm$')
_FOG_VIS = re.compile(r'^fog(\d+(?:\.\d+)?)m$')


def parse_domain(name):
    """(condition, level) of a domain name; None for ``clear``; a higher level is
    harder. Names of no known form are their own condition at level 0."""
    if name == 'clear':
        return None
    m = _RAIN_RATE.match(name)
    if m:
        return 'rain_mmh', float(m.group(1))
    m = _FOG_VIS.match(name)
    if m:
        return 'fog_m', 1.0 / float(m.group(1))
    m = _SEVERITY.match(name)
    if m:
        return m.group(1), float(m.group(2))
    return name, 0.0


def _folder(path):
    return osp.basename(osp.dirname(osp.abspath(path)))


def load_reports(paths):
    """Protocol name -> {run name: summary} from report files or benchmark dirs.

    Args:
        paths (Sequence[str]): ``report.json`` files, or folders searched for
            ``report.json`` and ``*/report.json`` (a benchmark's work root: its
            protocols in the order of its ``benchmark.json``, as the suite's own
            report reads them, then any others by name). A report's protocol is its
            folder name.

    Returns:
        OrderedDict: the reports, in the order found.
    """
    files = []
    for p in paths:
        if osp.isfile(p):
            files.append(p)
        elif osp.isdir(p):
            rank = {}
            if osp.isfile(osp.join(p, 'benchmark.json')):
                with open(osp.join(p, 'benchmark.json')) as fh:
                    order = (json.load(fh).get('settings') or {}).get('protocols') or []
                rank = {name: i for i, name in enumerate(order)}
            found = sorted(glob.glob(osp.join(p, '*', 'report.json')),
                           key=lambda f: (rank.get(_folder(f), len(rank)), f))
            files += sorted(glob.glob(osp.join(p, 'report.json'))) + found
        else:
            raise FileNotFoundError(f'goals: {p} is neither a report.json nor a folder')
    reports = OrderedDict()
    for f in files:
        with open(f) as fh:
            data = json.load(fh)
        runs = {k: v for k, v in data.items() if isinstance(v, dict) and 'per_domain' in v}
        if runs:
            reports[_folder(f)] = runs
    if not reports:
        raise FileNotFoundError(f'goals: no report.json with run summaries under {paths}')
    return reports


def _hardest(reports, key):
    """condition -> (level, domain, protocol) of the hardest domain in ``key``
    (``per_domain``: visited; ``init_per_domain``: evaluated before the stream)."""
    out = OrderedDict()
    for proto, runs in reports.items():
        for s in runs.values():
            for d in s.get(key) or {}:
                parsed = parse_domain(d)
                if parsed is None:
                    continue
                cond, level = parsed
                if cond not in out or level > out[cond][0]:
                    out[cond] = (level, d, proto)
    return out


def _value(s, domain, key='per_domain'):
    v = (s.get(key) or {}).get(domain)
    ci = ((s.get('ci') or {}).get(key) or {}).get(domain)
    return v, ci


def _f(v):
    return f'{v:.2f}' if v is not None and np.isfinite(v) else '-'


def _finite(*xs):
    return all(x is not None and np.isfinite(x) for x in xs)


def _goal(number, text, met, lines):
    return OrderedDict(number=number, goal=text, met=met, lines=lines)


def _goal_source_drop(reports, source, min_drop):
    lines, met = [], True
    hardest = _hardest(reports, 'init_per_domain')
    for cond, (_, d, proto) in hardest.items():
        s = reports[proto].get(source) or next(iter(reports[proto].values()))
        clear, _ = _value(s, 'clear', 'init_per_domain')
        hard, _ = _value(s, d, 'init_per_domain')
        drop = clear - hard if _finite(clear, hard) else float('nan')
        ok = bool(np.isfinite(drop) and drop >= min_drop)
        met &= ok
        lines.append(f'{cond} ({d}, {proto}): clear {_f(clear)} - {d} {_f(hard)} = '
                     f'{_f(drop)} mIoU lost [{"ok" if ok else "below"}]')
    return _goal(1, f'source-only loses >= {min_drop:g} mIoU at the hardest level of '
                    f'every condition', bool(met and hardest), lines)


def _goal_oracle_room(reports, bn, oracle, min_gain, min_conditions):
    lines, count = [], 0
    for cond, (_, d, proto) in _hardest(reports, 'per_domain').items():
        runs = reports[proto]
        if bn not in runs or oracle not in runs:
            lines.append(f'{cond} ({d}, {proto}): no {bn} or {oracle} run')
            continue
        (o, oci), (a, aci) = _value(runs[oracle], d), _value(runs[bn], d)
        gain = o - a if _finite(o, a) else float('nan')
        ok = bool(np.isfinite(gain) and gain >= min_gain)
        count += ok
        lines.append(f'{cond} ({d}, {proto}): {oracle} {_f(o)} - {bn} {_f(a)} = '
                     f'{_f(gain)} mIoU [{"ok" if ok else "below"}]')
    lines.append(f'{count} condition(s) with >= {min_gain:g}')
    return _goal(2, f'the labelled oracle beats AdaBN by >= {min_gain:g} mIoU on at '
                    f'least {min_conditions} conditions', count >= min_conditions, lines)


def _goal_separation(reports):
    lines, met = [], True
    hardest = _hardest(reports, 'per_domain')
    for cond, (_, d, proto) in hardest.items():
        best = None
        for a, sa in reports[proto].items():
            for b, sb in reports[proto].items():
                (va, ca), (vb, cb) = _value(sa, d), _value(sb, d)
                if a == b or ca is None or cb is None or not _finite(*ca, *cb):
                    continue
                gap = ca[0] - cb[1]  # low end of a above high end of b
                if best is None or gap > best[0]:
                    best = (gap, a, va, ca, b, vb, cb)
        ok = best is not None and best[0] > 0
        met &= ok
        if best is None:
            lines.append(f'{cond} ({d}, {proto}): no confidence intervals')
            continue
        gap, a, va, ca, b, vb, cb = best
        lines.append(f'{cond} ({d}, {proto}): {a} {va:.2f} [{ca[0]:.2f}, {ca[1]:.2f}] vs '
                     f'{b} {vb:.2f} [{cb[0]:.2f}, {cb[1]:.2f}]: gap between intervals '
                     f'{gap:+.2f} [{"separated" if ok else "overlap"}]')
    return _goal(3, 'on every condition at least one pair of methods is separated '
                    'beyond their 95% confidence intervals', bool(met and hardest), lines)


def _round_means(summary):
    """Mean held-out mIoU of each round of a repeated protocol (a round: one visit
    of every distinct domain of the order)."""
    visits = summary.get('per_visit') or []
    k = len({d for d, _ in visits})
    if not k:
        return []
    return [float(np.mean([v for _, v in visits[i:i + k]]))
            for i in range(0, len(visits) - k + 1, k)]


def _sign(published, ours, holds, what):
    return f'{what}: published {published}; ours {ours} -> ' + \
        ('holds' if holds else 'does NOT hold')


def _goal_published_signs(reports, protocol, source, bn, tent, cotta):
    runs = reports.get(protocol)
    if runs is None:
        return _goal(4, f'published Cityscapes->ACDC signs on the ACDC-like protocol',
                     None, [f'no report of protocol {protocol!r} (have '
                            f'{list(reports)})'])
    lines, checks = [], []
    src = runs.get(source)
    p = PUBLISHED_ACDC
    for name, pub in ((bn, p['bn_adapt']), (cotta, p['cotta'])):
        s = runs.get(name)
        if not (src and s):
            lines.append(f'{name} vs {source}: not run')
            continue
        diff = s['mIoU'] - src['mIoU']
        holds = (diff < 0) == (pub - p['source'] < 0)
        sep = ''
        ca, cb = (s.get('ci') or {}).get('mIoU'), (src.get('ci') or {}).get('mIoU')
        if ca and cb and _finite(*ca, *cb):
            sep = ', intervals ' + ('separated' if ca[0] > cb[1] or cb[0] > ca[1]
                                    else 'overlap')
        checks.append(holds)
        lines.append(_sign(f'{pub} vs {p["source"]} ({pub - p["source"]:+.1f})',
                           f'{s["mIoU"]:.2f} vs {src["mIoU"]:.2f} ({diff:+.2f}{sep})',
                           holds, f'{name} vs {source}'))
    s = runs.get(tent)
    rounds = _round_means(s) if s else []
    if len(rounds) >= 2:
        holds = rounds[-1] < rounds[0]
        checks.append(holds)
        lines.append(_sign(f'decays to {p["tent_round10"]} by round 10',
                           'round means ' + ', '.join(f'{r:.2f}' for r in rounds),
                           holds, f'{tent} over rounds'))
    else:
        lines.append(f'{tent} over rounds: not run or fewer than 2 rounds')
    return _goal(4, f'published Cityscapes->ACDC signs on the ACDC-like protocol '
                    f'({protocol}; reported, not tuned for)',
                 all(checks) if checks else None, lines)


def evaluate_goals(reports, source='source_only', bn='adabn', oracle='oracle',
                   tent='tent', cotta='cotta', acdc_protocol='acdc', min_source_drop=15.0,
                   min_oracle_gain=5.0, min_oracle_conditions=2):
    """The four goals, each with its numbers.

    Args:
        reports (dict): protocol -> {run name: summary} (:func:`load_reports`).
        source, bn, oracle, tent, cotta (str): the run names compared.
        acdc_protocol (str): the protocol of goal 4. Default: 'acdc'.
        min_source_drop (float): goal 1's threshold. Default: 15.
        min_oracle_gain (float): goal 2's threshold. Default: 5.
        min_oracle_conditions (int): goal 2's count. Default: 2.

    Returns:
        list[OrderedDict]: per goal ``number``, ``goal``, ``met`` (bool, or None
        when it could not be measured) and ``lines`` (the numbers).
    """
    return [_goal_source_drop(reports, source, min_source_drop),
            _goal_oracle_room(reports, bn, oracle, min_oracle_gain, min_oracle_conditions),
            _goal_separation(reports),
            _goal_published_signs(reports, acdc_protocol, source, bn, tent, cotta)]


def goal_lines(goals):
    """list[str]: printable lines, ``Goal N: ... : MET`` then the numbers."""
    out = []
    for g in goals:
        verdict = 'NOT MEASURED' if g['met'] is None else ('MET' if g['met'] else 'NOT MET')
        out.append(f'Goal {g["number"]}: {g["goal"]}: {verdict}')
        out += [f'  {line}' for line in g['lines']]
    return out
