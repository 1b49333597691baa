# Cityscapes (Cordts et al., CVPR 2016), clear weather, in its published layout
# (leftImg8bit/{split}/<city>/*_leftImg8bit.png, gtFine/{split}/<city>/*_gtFine_labelTrainIds.png,
# trainIds made with cityscapesscripts' createTrainIdLabelImgs). DAFormer/HAMLET
# resolution: resized to 1024x512, random 512x512 crops for training.
dataset_type = 'CityscapesDomainDataset'
# Data roots, one per data set family (docs/datasets.md; prepare each with
# tools/data/<family>.py). `--cfg-options cityscapes_root=... acdc_root=...` moves the
# datasets of that family only (mmseg_ext/apis/config.py).
cityscapes_root = 'data/cityscapes'  # leftImg8bit/, gtFine/ (+ labelTrainIds, RCS stats)
rain_cityscapes_root = 'data/rain_cityscapes'  # leftImg8bit/{split}/rain/{R}mm/rainy_image/
foggy_cityscapes_root = 'data/foggy_cityscapes'  # leftImg8bit_foggy/{split}/
acdc_root = 'data/acdc'  # rgb_anon/{cond}/{split}/, gt/{cond}/{split}/
data_root = cityscapes_root  # the main data set's root (Cityscapes here)
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
# Online stream frames (docs/interfaces.md): HAMLET's and DAFormer's target pipeline,
# resized like the source, then cropped to the source crop size (random position;
# padded if smaller), so DACS can ClassMix each target frame with a replayed source
# crop of the same size; the stream accuracy is measured on that crop, as in HAMLET.
# No flip (`RandomFlip` with prob 0 sets the `flip` meta `Collect` needs) and no
# photometric jitter: DACS applies its own to the mixed image.
stream_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=img_scale, keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.0),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
# DAFormer's rare-class sampling (RCS) at Cityscapes' full label resolution; the
# statistics are written into cityscapes_root by tools/data/cityscapes.py.
rare_class_sampling = dict(class_temp=0.01, min_pixels=3000, min_crop_ratio=0.5,
                           stats_dir=None)
# The replayed source of the online configs (Cityscapes train with RCS).
source_dataset = dict(type='SourceDataset', seed=0, rare_class_sampling=rare_class_sampling,
                      dataset=dict(type=dataset_type, data_root=cityscapes_root,
                                   img_dir='leftImg8bit/train', ann_dir='gtFine/train',
                                   name='source', domain=0, validate='exists',
                                   pipeline=train_pipeline))
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
