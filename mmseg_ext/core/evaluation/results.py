"""Results of an online run on disk: atomic writers, the one reader, the plot.

Every evaluation appends one row (domain x metric columns) to ``results.csv``
and ``results.json`` (the JSON rows also hold per-class IoU). Files are rewritten
whole through a temporary file and ``os.replace``, so a crash leaves the previous
complete file, never half a row. ``results.json`` (full precision, every column)
is what code reads, through :func:`load_rows` (the report, the notebooks, a
resumed run); ``results.csv`` (summary columns, 4 decimals) is for people and
spreadsheets. The plot shows mIoU per domain along the stream
(OnDA / HAMLET figures), stream accuracy per visit dashed.
"""
import csv
import io
import json
import os.path as osp

import numpy as np

from ..fileio import atomic_write

__all__ = ['atomic_write', 'atomic_write_json', 'strict_json', 'atomic_np_save', 'ResultsTable',
           'load_rows', 'stream_curve', 'plot_stream', 'SUMMARY_METRICS']

SUMMARY_METRICS = ('mIoU', 'mAcc', 'aAcc')


def strict_json(obj):
    """``obj`` with numpy values as Python ones and NaN/inf as None (JSON ``null``).

    Python's ``json`` writes ``NaN``/``Infinity`` by default, which strict JSON
    readers (browsers, ``jq``, most languages) reject.
    """
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return strict_json(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def atomic_write_json(obj, filename):
    """Strict JSON (numbers as floats, ``null`` for NaN/inf) written atomically."""
    atomic_write(json.dumps(strict_json(obj), indent=1, default=float, allow_nan=False),
                 filename)


def atomic_np_save(array, filename):
    """``np.save`` written atomically."""
    atomic_write(lambda f: np.save(f, array), filename, binary=True)


def load_rows(work_dir, name='results.json'):
    """The evaluation rows of a run, as :class:`ResultsTable` wrote them.

    Args:
        work_dir (str): the run's work dir.
        name (str): the JSON file of the rows. Default: 'results.json'.

    Returns:
        list[dict]: one row per evaluation (``after``: the domain just streamed,
        or ``'init'`` before the stream; NaN values are None, see
        :func:`strict_json`).
    """
    path = osp.join(work_dir, name)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{work_dir} has no {name}: not an online run work dir, '
                                f'or no evaluation finished yet')
    with open(path) as f:
        rows = json.load(f)
    if not isinstance(rows, list) or any('after' not in r for r in rows):
        raise ValueError(f'{path} is not a list of evaluation rows with an "after" key: '
                         f'not written by OnlineEvalHook')
    return rows


def stream_curve(rows):
    """The mIoU of the domain just streamed, evaluation after evaluation (the
    OnDA/HAMLET stream figure).

    Args:
        rows (list[dict]): rows of :func:`load_rows` (the ``init`` row, before the
            stream, is skipped).

    Returns:
        tuple[list[str], list[float]]: the domains and their mIoU (nan where the
        evaluation had none).
    """
    names, values = [], []
    for r in rows:
        key = f'{r["after"]}.mIoU'
        if r['after'] != 'init' and key in r:
            names.append(r['after'])
            values.append(float('nan') if r[key] is None else float(r[key]))
    return names, values


class ResultsTable:
    """Rows of evaluations, kept in ``results.csv`` / ``results.json``.

    Args:
        work_dir (str | None): folder of the files; None keeps rows in memory.
        csv_name (str): Default: 'results.csv'.
        json_name (str): Default: 'results.json'.
    """

    def __init__(self, work_dir=None, csv_name='results.csv', json_name='results.json'):
        self.work_dir = work_dir
        self.csv_name = csv_name
        self.json_name = json_name
        self.rows = []

    def load(self, keep=None):
        """Reads the rows already on disk (resume), keeping the first ``keep``."""
        path = self._path(self.json_name)
        if path and osp.isfile(path):
            self.rows = load_rows(self.work_dir, self.json_name)
        if keep is not None:
            self.rows = self.rows[:keep]
        return self.rows

    def _path(self, name):
        return osp.join(self.work_dir, name) if self.work_dir else None

    def append(self, row):
        """Adds a row and rewrites both files atomically."""
        self.rows.append(dict(row))
        self.write()

    def write(self):
        """Rewrites ``results.csv`` (summary columns) and ``results.json`` (all)."""
        if not self.work_dir:
            return
        atomic_write_json(self.rows, self._path(self.json_name))
        atomic_write(self.to_csv(), self._path(self.csv_name))

    def columns(self):
        """list[str]: the csv columns (no per-class IoU, no per-image files), in
        first-seen order."""
        cols = []
        for row in self.rows:
            for k in row:
                if '.IoU.' not in k and not k.endswith('.per_image') and k not in cols:
                    cols.append(k)
        return cols

    def to_csv(self):
        """str: the rows as CSV text."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns(), extrasaction='ignore',
                                lineterminator='\n')
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: (f'{v:.4f}' if isinstance(v, float) else v)
                             for k, v in row.items()})
        return buf.getvalue()


def plot_stream(rows, filename, title=None, runs=None):
    """Plots held-out mIoU along the stream (the OnDA / HAMLET figure).

    Ticks are the evaluations after each visit in words (``'rain 25 mm/h'``;
    ``'before the stream'`` for a run's initial evaluation), legends name domains
    the same way and runs by the parts of their names that differ, and a value
    that is missing (NaN) leaves a gap, said in the legend entry.

    Args:
        rows (list[dict]): evaluation rows of one run (``ResultsTable.rows``).
        filename (str): the PNG written.
        title (str | None): figure title. Default: None (one is made up).
        runs (dict[str, list[dict]] | None): several runs (label -> rows) overlaid
            instead of ``rows``; then one line per run of the mIoU of the domain
            just streamed, after each visit. Default: None.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from .plots import domain_label, nan_note, short_names

    fig, ax = plt.subplots(figsize=(9, 4.5))
    if runs:
        labels = None
        for label, run_rows in zip(short_names(list(runs)), runs.values()):
            visits = [r for r in run_rows if r['after'] != 'init']
            y = [r.get(f'{r["after"]}.mIoU', float('nan')) for r in visits]
            ax.plot(range(len(y)), y, marker='o', label=label + nan_note(y))
            labels = labels or [r['after'] for r in visits]
        ax.set_ylabel('held-out mIoU of the domain just streamed (%)')
        title = title or f'{len(runs)} runs: held-out mIoU after each visit'
    else:
        labels = [r['after'] for r in rows]
        domains = []
        for r in rows:
            for k in r:
                if k.endswith('.mIoU') and not k.startswith('stream') and \
                        k[:-5] not in domains:
                    domains.append(k[:-5])
        for d in domains:  # lines join the evaluations of d (all, or its visits)
            x = [i for i, r in enumerate(rows) if f'{d}.mIoU' in r]
            y = [rows[i][f'{d}.mIoU'] for i in x]
            ax.plot(x, y, marker='o', label=domain_label(d) + nan_note(y))
        x = [i for i, r in enumerate(rows) if 'stream.mIoU' in r]
        if x:
            ax.plot(x, [rows[i]['stream.mIoU'] for i in x], linestyle='--', color='k',
                    marker='x', label='stream mIoU of the visit (online predictions)')
        ax.set_ylabel('held-out mIoU (%)')
    ax.set_xticks(range(len(labels or [])))
    ax.set_xticklabels([domain_label(n) for n in labels or []], rotation=45, ha='right')
    ax.set_xlabel('evaluation after the visit of')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    atomic_write(lambda f: fig.savefig(f, format='png', dpi=90), filename, binary=True)
    plt.close(fig)
