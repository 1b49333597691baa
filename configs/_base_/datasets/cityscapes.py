# Cityscapes (Cordts et al., CVPR 2016), clear weather, in its published layout
# (leftImg8bit/{split}/<city>/*_leftImg8bit.png, gtFine/{split}/<city>/*_gtFine_labelTrainIds.png,
# trainIds made with cityscapesscripts' createTrainIdLabelImgs). DAFormer/HAMLET
# resolution: resized to 1024x512, random 512x512 crops for training.
dataset_type = 'CityscapesDomainDataset'
data_root = 'data/cityscapes'
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                    to_rgb=True)
img_scale = (1024, 512)  # (w, h)
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=img_scale),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
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
    samples_per_gpu=2,
    workers_per_gpu=2,
    train=dict(type=dataset_type, data_root=data_root, img_dir='leftImg8bit/train',
               ann_dir='gtFine/train', name='clear', domain=0, validate='exists',
               pipeline=train_pipeline),
    val=dict(type=dataset_type, data_root=data_root, img_dir='leftImg8bit/val',
             ann_dir='gtFine/val', name='clear', domain=0, validate='exists',
             pipeline=test_pipeline),
    test=dict(type=dataset_type, data_root=data_root, img_dir='leftImg8bit/val',
              ann_dir='gtFine/val', name='clear', domain=0, validate='exists',
              pipeline=test_pipeline))
