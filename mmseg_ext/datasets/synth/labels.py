"""Cityscapes train-id table used by the generators, read from cityscapesscripts.

The 19 evaluated classes of Cityscapes (Cordts et al., CVPR 2016) in trainId order,
with their official colours, as given by ``cityscapesscripts.helpers.labels``.
"""
from cityscapesscripts.helpers.labels import labels as _CS_LABELS

IGNORE_INDEX = 255

_TRAIN_LABELS = sorted((lab for lab in _CS_LABELS if 0 <= lab.trainId < IGNORE_INDEX),
                       key=lambda lab: lab.trainId)

#: Class names in trainId order ('road', 'sidewalk', ..., 'bicycle').
CLASS_NAMES = tuple(lab.name for lab in _TRAIN_LABELS)
#: Official RGB colours in trainId order.
PALETTE = tuple(tuple(lab.color) for lab in _TRAIN_LABELS)
#: Name -> trainId.
TRAIN_ID = {lab.name: lab.trainId for lab in _TRAIN_LABELS}
NUM_CLASSES = len(CLASS_NAMES)

__all__ = ['CLASS_NAMES', 'PALETTE', 'TRAIN_ID', 'NUM_CLASSES', 'IGNORE_INDEX']
