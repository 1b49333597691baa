# SegFormer MiT-B1 on clear ProcCity starting from NVlabs' ImageNet encoder
# (pretrained/mit_b1.pth, see pretrained/README.md; any of the NVlabs, mmseg or
# HAMLET layouts is converted when loaded). SegFormer's fine-tuning recipe: AdamW
# 6e-5, head lr x10, poly decay after 1500 warm-up iterations.
#   python tools/train.py configs/source/segformer_mit-b1_proccity_clear_imagenet.py
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/segformer_mit-b1.py',
    '../_base_/datasets/proccity_clear.py',
    '../_base_/schedules/adamw.py',
    '../_base_/schedules/poly10warm.py',
    '../_base_/schedules/source_40k.py',
]
model = dict(backbone=dict(pretrained='pretrained/mit_b1.pth'))
