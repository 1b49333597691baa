# The source model of the ProcCity demo: SegFormer MiT-B0 trained from scratch (no
# ImageNet weights can be downloaded here) on the clear ProcCity train split at
# 128x256, for a 2-core CPU budget. `tools/demo.py` trains it once and caches the
# last checkpoint in pretrained/; online configs start from it (load_from).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/segformer_mit-b0.py',
    '../_base_/schedules/adamw.py', '../_base_/schedules/poly10warm.py',
    '../_base_/schedules/source_40k.py'
]
data_root = 'data/proccity'
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                    to_rgb=True)
crop_size = (128, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(256, 128), ratio_range=(0.75, 1.5)),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiScaleFlipAug', img_scale=(256, 128), flip=False,
         transforms=[
             dict(type='Resize', keep_ratio=True),
             dict(type='RandomFlip'),
             dict(type='Normalize', **img_norm_cfg),
             dict(type='ImageToTensor', keys=['img']),
             dict(type='Collect', keys=['img']),
         ]),
]
data = dict(
    samples_per_gpu=4, workers_per_gpu=0,
    train=dict(type='ProcCityDataset', weather='clear', subset='train',
               data_root=data_root, pipeline=train_pipeline),
    val=dict(type='ProcCityDataset', weather='clear', subset='val', data_root=data_root,
             pipeline=test_pipeline, test_mode=True),
    test=dict(type='ProcCityDataset', weather='clear', subset='val', data_root=data_root,
              pipeline=test_pipeline, test_mode=True))
# From scratch: a larger learning rate than SegFormer's fine-tuning 6e-5, head not x10.
optimizer = dict(lr=1e-3, paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=1.0))))
lr_config = dict(warmup_iters=100)
runner = dict(max_iters=1500)
checkpoint_config = dict(interval=500, max_keep_ckpts=1)
evaluation = dict(interval=500)
log_config = dict(interval=50)
