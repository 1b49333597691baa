# The source model of the ProcCity demo: SegFormer MiT-B0 trained from scratch (no
# ImageNet weights can be downloaded here) on the clear ProcCity train split at
# 128x256, for a 2-core CPU budget. `tools/demo.py` trains it once and caches the
# last checkpoint in pretrained/; online configs start from it (load_from).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/segformer_mit-b0.py',
    '../_base_/datasets/proccity_clear.py', '../_base_/schedules/adamw.py',
    '../_base_/schedules/poly10warm.py', '../_base_/schedules/source_40k.py'
]
data = dict(samples_per_gpu=2)
# From scratch: a larger learning rate than SegFormer's fine-tuning 6e-5, head not x10.
optimizer = dict(lr=1e-3, paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=1.0))))
# 800 steps of 2 images: ~6 min on 2 free cores (~0.45 s per step at 128x256).
lr_config = dict(warmup_iters=50)
runner = dict(max_iters=800)
checkpoint_config = dict(interval=400, max_keep_ckpts=1)
evaluation = dict(interval=800)
log_config = dict(interval=50)
