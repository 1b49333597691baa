# Labelled upper bound: DACS trained on each whole target frame with its ground truth
# (target_only: no ClassMix; the frame keeps DACS's colour jitter and blur) instead of
# pseudo-labels (no teacher is built). The stream must carry target_gt_semantic_seg.
# target_only=False gives the weaker oracle that mixes the labels into ClassMix.
_base_ = ['dacs.py']
uda = dict(oracle=True, target_only=True)
