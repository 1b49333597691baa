# CoTTA (Wang et al., CVPR 2022) online on a ProcCity protocol (the demo's ACDC-like
# stream by default; the benchmark swaps in its protocols): EMA teacher averaged over scaled and
# flipped inputs where the source anchor is unsure, stochastic restore of weights.
_base_ = [
    '../_base_/online/proccity_source_model.py', '../_base_/models/segformer_mit-b0.py',
    '../_base_/uda/cotta.py',
    '../_base_/schedules/adamw.py', '../_base_/online/proccity_demo.py'
]
# CoTTA's Cityscapes -> ACDC SegFormer run: Adam (no weight decay), lr 6e-5 / 8 on
# the whole model, the head at the same rate.
optimizer = dict(type='Adam', lr=7.5e-6, weight_decay=0.0,
                 paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=1.0))))
log_config = dict(interval=30)
