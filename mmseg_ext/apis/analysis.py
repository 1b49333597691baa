"""Analysis helpers of the debug notebooks (``notebooks/*.ipynb``).

The notebooks only load data, call these functions and plot; the numbers they
show are computed (and tested) here:

- :func:`load_results_csv` / :func:`stream_curve`: a run's ``results.csv`` and
  the mIoU of the domain just streamed along the stream (OnDA/HAMLET figures);
- :func:`pseudo_label_quality`: how good a teacher's pseudo-labels are against
  the ground truth, overall and on the pixels above the DACS confidence
  threshold (Tranheden et al., WACV 2021), per domain (e.g. per rain rate).
"""
import csv
import os.path as osp

import torch

__all__ = ['load_results_csv', 'stream_curve', 'pseudo_label_quality']


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def load_results_csv(work_dir):
    """Rows of a run's ``results.csv`` (numbers as floats, ``after`` as text).

    Args:
        work_dir (str): the run's work dir.

    Returns:
        list[dict]: one row per evaluation.
    """
    path = osp.join(work_dir, 'results.csv')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{work_dir} has no results.csv: not an online run '
                                'work dir, or no evaluation finished yet')
    with open(path, newline='') as f:
        rows = [{k: (v if k == 'after' else _number(v)) for k, v in r.items() if v != ''}
                for r in csv.DictReader(f)]
    if rows and 'after' not in rows[0]:
        raise KeyError(f'{path} has no "after" column: not written by OnlineEvalHook')
    return rows


def stream_curve(rows):
    """The mIoU of the domain just streamed, evaluation after evaluation.

    Args:
        rows (list[dict]): rows of :func:`load_results_csv` (the ``init`` row,
            before the stream, is skipped).

    Returns:
        tuple[list[str], list[float]]: the domains and their mIoU.
    """
    names, values = [], []
    for r in rows:
        key = f'{r["after"]}.mIoU'
        if r['after'] != 'init' and key in r:
            names.append(r['after'])
            values.append(float(r[key]))
    return names, values


@torch.no_grad()
def pseudo_label_quality(logits, labels, threshold=0.968, ignore_index=255):
    """Accuracy of hard pseudo-labels ``argmax(logits)`` against ``labels``.

    Args:
        logits (Tensor): teacher logits ``[N, C, H, W]``.
        labels (Tensor): ground truth ``[N, H, W]`` (or ``[N, 1, H, W]``).
        threshold (float): confidence threshold of DACS' pseudo-label weight.
            Default: 0.968.
        ignore_index (int): label left out. Default: 255.

    Returns:
        dict: ``accuracy`` (all labelled pixels), ``confident_fraction``
        (share of labelled pixels whose max softmax reaches ``threshold``, the
        DACS weight), ``confident_accuracy`` (accuracy on those pixels, nan when
        none), ``pixels`` (labelled pixels).
    """
    if labels.dim() == 4:
        labels = labels[:, 0]
    if logits.shape[0] != labels.shape[0] or logits.shape[2:] != labels.shape[1:]:
        raise ValueError(f'pseudo_label_quality: logits {tuple(logits.shape)} and '
                         f'labels {tuple(labels.shape)} differ in batch or size')
    prob, pred = torch.softmax(logits.float(), dim=1).max(dim=1)
    valid = labels != ignore_index
    correct = (pred == labels) & valid
    confident = (prob >= threshold) & valid
    n = int(valid.sum())
    n_conf = int(confident.sum())
    return dict(
        accuracy=float(correct.sum()) / n if n else float('nan'),
        confident_fraction=n_conf / n if n else float('nan'),
        confident_accuracy=float((correct & confident).sum()) / n_conf
        if n_conf else float('nan'),
        pixels=n)

