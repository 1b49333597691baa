# Cityscapes -> ACDC (CoTTA, CVPR 2022): Cityscapes source (RCS) then the ACDC conditions
# fog, night, rain, snow (data root data/acdc). Use with
# runner.domain_order=['acdc_fog', 'acdc_night', 'acdc_rain', 'acdc_snow'] (repeated).
_base_ = ['./cityscapes.py']
# DAFormer's RCS at Cityscapes' full label resolution.
rare_class_sampling = dict(class_temp=0.01, min_pixels=3000, min_crop_ratio=0.5,
                           stats_dir=None)
stream_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(1024, 512), keep_ratio=True),
    dict(type='Normalize', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
         to_rgb=True),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
source = dict(type='SourceDataset', seed=0, rare_class_sampling=rare_class_sampling,
              dataset=dict(type='CityscapesDomainDataset', data_root={{_base_.data_root}},
                           img_dir='leftImg8bit/train', ann_dir='gtFine/train',
                           name='source', domain=0, validate='exists',
                           pipeline={{_base_.train_pipeline}}))
acdc_root = 'data/acdc'
stream = dict(type='ACDCDataset', data_root=acdc_root, subset='train', validate='exists',
              pipeline=stream_pipeline)
held_out = dict(type='ACDCDataset', data_root=acdc_root, subset='val', validate='exists',
                pipeline={{_base_.test_pipeline}})
data = dict(
    _delete_=True,
    samples_per_gpu=1,
    workers_per_gpu=0,
    train=[
        source,
        dict(stream, condition='fog', name='acdc_fog', domain=1),
        dict(stream, condition='night', name='acdc_night', domain=2),
        dict(stream, condition='rain', name='acdc_rain', domain=3),
        dict(stream, condition='snow', name='acdc_snow', domain=4),
    ],
    val=[
        dict(held_out, condition='fog', name='acdc_fog', domain=1),
        dict(held_out, condition='night', name='acdc_night', domain=2),
        dict(held_out, condition='rain', name='acdc_rain', domain=3),
        dict(held_out, condition='snow', name='acdc_snow', domain=4),
    ],
    test=dict(held_out, condition='fog', name='acdc_fog', domain=1))
