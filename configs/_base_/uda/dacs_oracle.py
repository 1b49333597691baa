# Upper bound: mix with the target's ground truth instead of pseudo-labels (no
# teacher is built). The stream must carry target_gt_semantic_seg.
_base_ = ['dacs.py']
uda = dict(oracle=True)
