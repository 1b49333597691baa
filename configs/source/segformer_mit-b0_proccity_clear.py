# Source model of the ProcCity experiments: SegFormer MiT-B0 trained on the clear
# ProcCity train split, validation mIoU on the clear val split. Nothing can be
# downloaded here, so the encoder starts from scratch (NVlabs init), which needs a
# larger learning rate than SegFormer's ImageNet fine-tuning (6e-5, head x10).
#   python tools/train.py configs/source/segformer_mit-b0_proccity_clear.py
# The online configs start from its checkpoint (load_from).
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/segformer_mit-b0.py',
    '../_base_/datasets/proccity_clear.py',
    '../_base_/schedules/adamw.py',
    '../_base_/schedules/poly10warm.py',
    '../_base_/schedules/source_40k.py',
]
# From scratch the encoder needs the head's rate: lr 1e-3 everywhere.
optimizer = dict(lr=1e-3, paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=1.0))))
# A CPU budget: 4k iterations at 128x256, batch 4 (measured 1.5-1.7 s per
# iteration on a busy 2-core machine, so under 2 h; a free machine is faster).
lr_config = dict(warmup_iters=200)
runner = dict(max_iters=4000)
checkpoint_config = dict(interval=1000, max_keep_ckpts=2)
evaluation = dict(interval=1000)
