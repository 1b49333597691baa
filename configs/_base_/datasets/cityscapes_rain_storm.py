# The "increasing storm" of OnDA (ECCV 2022) / HAMLET (ICCV 2023) on real data:
# Cityscapes source (RCS) then rainy Cityscapes at 25..200 mm/h, in the online layout of
# docs/interfaces.md. Stream: the val split's frames with labels (the only labelled
# scenes the source model never trained on; HAMLET's public configs stream the
# rainy train split, the source's own scenes); held-out evaluation: the val split.
_base_ = ['./cityscapes.py']
# DAFormer's RCS at Cityscapes' full label resolution.
rare_class_sampling = dict(class_temp=0.01, min_pixels=3000, min_crop_ratio=0.5,
                           stats_dir=None)
stream_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(1024, 512), keep_ratio=True),
    dict(type='RandomFlip', prob=0.0),  # no flip; sets the `flip` meta Collect needs
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
stream = dict(data_root={{_base_.data_root}}, subset='val', validate='exists',
              pipeline=stream_pipeline)
held_out = dict(data_root={{_base_.data_root}}, subset='val', validate='exists',
                pipeline={{_base_.test_pipeline}})
clear = dict(type='CityscapesDomainDataset', data_root={{_base_.data_root}}, name='clear',
             domain=0, validate='exists')
data = dict(
    _delete_=True,
    samples_per_gpu=1,
    workers_per_gpu=0,
    train=[
        source,
        dict(clear, img_dir='leftImg8bit/val', ann_dir='gtFine/val',
             pipeline=stream_pipeline),
        dict(stream, type='RainCityscapesDataset', rain_rate=25, name='25mm', domain=25),
        dict(stream, type='RainCityscapesDataset', rain_rate=50, name='50mm', domain=50),
        dict(stream, type='RainCityscapesDataset', rain_rate=75, name='75mm', domain=75),
        dict(stream, type='RainCityscapesDataset', rain_rate=100, name='100mm', domain=100),
        dict(stream, type='RainCityscapesDataset', rain_rate=200, name='200mm', domain=200),
    ],
    val=[
        dict(clear, img_dir='leftImg8bit/val', ann_dir='gtFine/val',
             pipeline={{_base_.test_pipeline}}),
        dict(held_out, type='RainCityscapesDataset', rain_rate=25, name='25mm', domain=25),
        dict(held_out, type='RainCityscapesDataset', rain_rate=50, name='50mm', domain=50),
        dict(held_out, type='RainCityscapesDataset', rain_rate=75, name='75mm', domain=75),
        dict(held_out, type='RainCityscapesDataset', rain_rate=100, name='100mm', domain=100),
        dict(held_out, type='RainCityscapesDataset', rain_rate=200, name='200mm', domain=200),
    ],
    test=dict(clear, img_dir='leftImg8bit/val', ann_dir='gtFine/val',
              pipeline={{_base_.test_pipeline}}))
