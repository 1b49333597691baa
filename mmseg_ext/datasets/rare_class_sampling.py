"""Class statistics and rare-class sampling probabilities (DAFormer, Hoyer et al., CVPR 2022).

The statistics are written once per source set, in DAFormer's format, next to the
data (``tools/data/class_stats.py``):

* ``sample_class_stats.json``: one dict per label file,
  ``{"file": <path relative to the root>, "<trainId>": <pixels>, ...}``;
* ``samples_with_class.json``: ``{"<trainId>": [[<file>, <pixels>], ...]}``.

Rare-class sampling draws a class ``c`` with ``p(c) = softmax((1 - f_c) / T)``,
``f_c`` the class's share of all labelled pixels, then a sample that holds at
least ``min_pixels`` pixels of ``c``.
"""
import json
import os
import os.path as osp
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np

from ..core.fileio import atomic_write

__all__ = [
    'STATS_FILE', 'SAMPLES_FILE', 'label_class_counts', 'compute_class_stats',
    'samples_with_class', 'write_class_stats', 'load_class_stats', 'rcs_class_probs',
]

STATS_FILE = 'sample_class_stats.json'
SAMPLES_FILE = 'samples_with_class.json'


def label_class_counts(path, num_classes=19, ignore_index=255):
    """dict[int, int]: pixels per trainId of one label file (ignore excluded).

    Raises:
        IOError: the file cannot be read.
        ValueError: it holds values outside ``0..num_classes-1`` / ``ignore_index``.
    """
    from PIL import Image
    try:
        with Image.open(path) as im:
            seg = np.asarray(im)
    except Exception as err:
        raise IOError(f'unreadable label {path}: {err}') from None
    counts = np.bincount(seg.ravel().astype(np.int64), minlength=256)
    bad = [v for v in np.nonzero(counts)[0] if v >= num_classes and v != ignore_index]
    if bad:
        raise ValueError(f'label {path} has values {bad} outside 0..{num_classes - 1}/'
                         f'{ignore_index}; expected trainIds')
    return {int(c): int(counts[c]) for c in range(num_classes) if counts[c]}


def _one(rel, root, num_classes, ignore_index):
    stats = {'file': rel}
    stats.update({str(c): n for c, n in label_class_counts(
        osp.join(root, rel), num_classes, ignore_index).items()})
    return stats


def compute_class_stats(root, ann_dir, seg_map_suffix='_gtFine_labelTrainIds.png',
                        num_classes=19, ignore_index=255, workers=1):
    """Per-file class pixel counts of every label under ``root/ann_dir``.

    Args:
        root (str): Data root; files are recorded relative to it.
        ann_dir (str): Label directory relative to ``root`` (e.g. 'gtFine/train').
        seg_map_suffix (str): Label file suffix. Default: '_gtFine_labelTrainIds.png'.
        num_classes (int): Number of train classes. Default: 19.
        ignore_index (int): Ignored label value. Default: 255.
        workers (int): Processes reading labels. Default: 1.

    Returns:
        list[dict]: DAFormer's ``sample_class_stats`` entries, sorted by file.
    """
    base = osp.join(root, ann_dir)
    if not osp.isdir(base):
        raise FileNotFoundError(f'label directory {base} does not exist')
    rels = sorted(osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(base)
                  for f in files if f.endswith(seg_map_suffix))
    if not rels:
        raise FileNotFoundError(f'no *{seg_map_suffix} labels under {base}')
    fn = partial(_one, root=root, num_classes=num_classes, ignore_index=ignore_index)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            return list(pool.map(fn, rels, chunksize=16))
    return [fn(r) for r in rels]


def samples_with_class(stats):
    """dict[str, list]: ``{"<trainId>": [[file, pixels], ...]}`` from the stats."""
    out = {}
    for entry in stats:
        for key, n in entry.items():
            if key != 'file':
                out.setdefault(key, []).append([entry['file'], n])
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


def write_class_stats(out_dir, stats):
    """Writes ``sample_class_stats.json`` and ``samples_with_class.json`` to ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    atomic_write(json.dumps(stats), osp.join(out_dir, STATS_FILE))
    atomic_write(json.dumps(samples_with_class(stats)), osp.join(out_dir, SAMPLES_FILE))


def load_class_stats(stats_dir):
    """list[dict]: the ``sample_class_stats.json`` of ``stats_dir``, checked."""
    path = osp.join(stats_dir, STATS_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'rare-class sampling needs {path}; write it once with '
            f'`python tools/data/class_stats.py {stats_dir}`')
    with open(path) as f:
        stats = json.load(f)
    if not isinstance(stats, list) or not all(isinstance(e, dict) and 'file' in e
                                              for e in stats):
        raise ValueError(f'{path} is not a list of {{"file": ..., "<class>": pixels}} '
                         f'entries (DAFormer sample_class_stats format)')
    return stats


def rcs_class_probs(stats, temperature=0.01):
    """Classes and their sampling probabilities ``softmax((1 - f_c) / T)``.

    Args:
        stats (list[dict]): ``sample_class_stats`` entries.
        temperature (float): ``T``; smaller favours rare classes more. Default: 0.01.

    Returns:
        tuple[list[int], np.ndarray]: classes present in the stats (rarest last, as
        DAFormer orders them) and their probabilities.
    """
    if temperature <= 0:
        raise ValueError(f'rare-class sampling temperature must be > 0, got {temperature}')
    totals = {}
    for entry in stats:
        for key, n in entry.items():
            if key != 'file':
                totals[int(key)] = totals.get(int(key), 0) + int(n)
    if not totals:
        raise ValueError('class statistics hold no labelled pixel')
    classes = sorted(totals, key=lambda c: -totals[c])
    freq = np.array([totals[c] for c in classes], np.float64)
    freq /= freq.sum()
    logits = (1.0 - freq) / temperature
    probs = np.exp(logits - logits.max())
    return classes, probs / probs.sum()
