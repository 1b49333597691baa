"""Analysis helpers of the debug notebooks (``notebooks/*.ipynb``).

The notebooks only load data, call these functions and plot; the numbers they
show are computed (and tested) here and in
:mod:`mmseg_ext.core.evaluation.results` (a run's rows, :func:`load_rows`, and
the mIoU of the domain just streamed, :func:`stream_curve`):

- :func:`pseudo_label_quality`: how good a teacher's pseudo-labels are against
  the ground truth, overall and on the pixels above the DACS confidence
  threshold (Tranheden et al., WACV 2021), per domain (e.g. per rain rate).
"""
import torch

__all__ = ['pseudo_label_quality']


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

