"""Stream accuracy: what a deployed model saw (HAMLET's video mode).

The prediction the model makes on each incoming target frame, before it adapts on
that frame, is scored against the frame's label and accumulated per domain (the
four areas of mmseg's ``intersect_and_union`` per class, i.e. the diagonal and
marginals of a confusion matrix). HAMLET, Colomer et al., ICCV 2023,
arXiv:2307.15063, Sec. 4 ("online" evaluation).
"""
from collections import OrderedDict

import numpy as np
import torch
from mmseg.core.evaluation.metrics import intersect_and_union, total_area_to_metrics

__all__ = ['StreamAccuracy', 'areas_to_metrics']


def areas_to_metrics(areas, class_names):
    """Turns accumulated areas into percent metrics.

    Args:
        areas (Sequence[Tensor]): total (intersect, union, pred, label) per class.
        class_names (Sequence[str]): names for the per-class IoU keys.

    Returns:
        OrderedDict: ``mIoU``, ``mAcc``, ``aAcc`` and ``IoU.<class>`` in percent
        (classes absent from both prediction and label are nan and left out of
        the means).
    """
    ret = total_area_to_metrics(*areas, metrics=['mIoU'])
    out = OrderedDict()
    iou = np.asarray(ret['IoU'], dtype=float)
    acc = np.asarray(ret['Acc'], dtype=float)
    out['mIoU'] = float(np.nanmean(iou) * 100) if np.isfinite(iou).any() else float('nan')
    out['mAcc'] = float(np.nanmean(acc) * 100) if np.isfinite(acc).any() else float('nan')
    out['aAcc'] = float(np.asarray(ret['aAcc']) * 100)
    for name, value in zip(class_names, iou):
        out[f'IoU.{name}'] = float(value * 100)
    return out


class StreamAccuracy:
    """Per-domain accumulation of on-line predictions against labels.

    Args:
        num_classes (int): number of classes. Default: 19.
        ignore_index (int): label value left out. Default: 255.
        class_names (Sequence[str] | None): names for per-class keys; None uses
            the class indices. Default: None.
    """

    def __init__(self, num_classes=19, ignore_index=255, class_names=None):
        self.num_classes = int(num_classes)
        self.ignore_index = int(ignore_index)
        self.class_names = (list(class_names) if class_names is not None
                            else [str(i) for i in range(self.num_classes)])
        if len(self.class_names) != self.num_classes:
            raise ValueError(f'stream accuracy: {len(self.class_names)} class names '
                             f'for {self.num_classes} classes')
        self.areas = OrderedDict()

    def update(self, key, pred, label):
        """Adds a batch of predictions of domain ``key``.

        Args:
            key (str): the domain (or stream position) the frames belong to.
            pred (Tensor): LongTensor [N, H, W].
            label (Tensor): [N, 1, H, W] or [N, H, W] labels, same H, W.
        """
        self.add(key, self.frame_areas(pred, label, key))

    def frame_areas(self, pred, label, key=''):
        """list[Tensor]: the four areas of a batch, summed over its frames (to
        :meth:`add` to several keys without counting twice)."""
        pred = pred.detach().cpu()
        label = label.detach().cpu()
        if label.dim() == 4:
            label = label[:, 0]
        if pred.shape != label.shape:
            raise ValueError(f'stream accuracy for {key!r}: prediction shape '
                             f'{tuple(pred.shape)} differs from label shape '
                             f'{tuple(label.shape)}')
        total = None
        for p, l in zip(pred, label):
            a = intersect_and_union(p.numpy(), l.numpy(), self.num_classes,
                                    self.ignore_index,
                                    label_map=dict(), reduce_zero_label=False)
            a = [x.double() for x in a]
            total = a if total is None else [t + x for t, x in zip(total, a)]
        return total

    def add(self, key, areas):
        """Adds areas from :meth:`frame_areas` to domain ``key``."""
        total = self.areas.get(key)
        self.areas[key] = (list(areas) if total is None
                           else [t + x for t, x in zip(total, areas)])

    def keys(self):
        """list[str]: the domains seen so far."""
        return list(self.areas)

    def metrics(self, key):
        """dict: percent metrics of domain ``key`` (see :func:`areas_to_metrics`)."""
        if key not in self.areas:
            raise KeyError(f'stream accuracy has no frames of {key!r}; seen: '
                           f'{self.keys()}')
        return areas_to_metrics(self.areas[key], self.class_names)

    def state_dict(self):
        return dict(areas={k: [t.clone() for t in v] for k, v in self.areas.items()})

    def load_state_dict(self, state):
        self.areas = OrderedDict(
            (k, [torch.as_tensor(t, dtype=torch.float64) for t in v])
            for k, v in state['areas'].items())
