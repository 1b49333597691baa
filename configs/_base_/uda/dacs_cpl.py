# DAFormer's pseudo-label crop: no weight on the top 15 and bottom 120 rows of a
# 512-row image (30 / 240 at Cityscapes' full 1024 rows), where rectification
# artefacts and the ego-car hood sit; scaled to the input height.
_base_ = ['dacs.py']
uda = dict(
    pseudo_weight_ignore_top=15,
    pseudo_weight_ignore_bottom=120,
    pseudo_weight_ref_height=512,
)
