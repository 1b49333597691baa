# ProcCity clear (source domain): procedural street scenes rendered by
# `python tools/data/proccity.py data/proccity --train 400 --val 40 --size 128 256`,
# read in the Cityscapes layout. Images are 128x256; the pipelines keep that size.
dataset_type = 'ProcCityDataset'
data_root = 'data/proccity'
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                    to_rgb=True)
img_scale = (256, 128)  # (w, h), mmseg order
crop_size = (128, 256)  # (h, w)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=img_scale, ratio_range=(1.0, 1.5)),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    # brightness, contrast, saturation and hue jitter, as in mmseg's Cityscapes recipe
    # that the published SegFormer source models were trained with
    dict(type='PhotoMetricDistortion'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiScaleFlipAug', img_scale=img_scale, flip=False,
         transforms=[
             dict(type='Resize', keep_ratio=True),
             dict(type='RandomFlip'),
             dict(type='Normalize', **img_norm_cfg),
             dict(type='ImageToTensor', keys=['img']),
             dict(type='Collect', keys=['img']),
         ]),
]
data = dict(
    samples_per_gpu=4,
    workers_per_gpu=0,
    train=dict(type=dataset_type, data_root=data_root, weather='clear', subset='train',
               name='clear', domain=0, validate='full', pipeline=train_pipeline),
    val=dict(type=dataset_type, data_root=data_root, weather='clear', subset='val',
             name='clear', domain=0, validate='full', pipeline=test_pipeline),
    test=dict(type=dataset_type, data_root=data_root, weather='clear', subset='val',
              name='clear', domain=0, validate='full', pipeline=test_pipeline))
