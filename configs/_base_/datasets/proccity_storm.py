# The ProcCity "increasing storm" stream for the online runner (docs/interfaces.md,
# "Online config layout"): the clear source with rare-class sampling first, then one
# target dataset per domain name (frames of the `test` split: scenes the source model
# never saw in training; labels loaded for stream accuracy, no random augmentation),
# and one held-out `val` set per domain (>= 100 images in the full benchmark).
# Data: tools/data/proccity.py + tools/data/weather.py (writes the RCS statistics too).
_base_ = ['./proccity_clear.py']
# DAFormer's RCS: T = 0.01, min pixels 3000 at 1024x2048, i.e. ~50 at 128x256.
rare_class_sampling = dict(class_temp=0.01, min_pixels=50, min_crop_ratio=0.5,
                           stats_dir=None)
stream_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale={{_base_.img_scale}}, keep_ratio=True),
    dict(type='RandomFlip', prob=0.0),  # no flip; sets the `flip` meta Collect needs
    dict(type='Normalize', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
         to_rgb=True),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
# The source set replayed during adaptation (first entry of data.train of every
# ProcCity protocol): clear `train` scenes, augmented, with rare-class sampling.
source_train = dict(
    type='SourceDataset', seed=0, rare_class_sampling=rare_class_sampling,
    dataset=dict(type='ProcCityDataset', data_root={{_base_.data_root}}, weather='clear',
                 subset='train', name='source', domain=0, validate='full',
                 pipeline={{_base_.train_pipeline}}))
_stream = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='test',
               validate='full', pipeline=stream_pipeline)
_val = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='val',
            validate='full', pipeline={{_base_.test_pipeline}})
# The held-out clear set of every ProcCity protocol (the source domain's level).
val_clear = dict(_val, weather='clear', name='clear', domain=0)
data = dict(
    _delete_=True,
    samples_per_gpu=1,
    workers_per_gpu=0,
    train=[
        source_train,
        dict(_stream, weather='clear', name='clear', domain=0),
        dict(_stream, weather='rain', rain_rate=25, name='25mm', domain=25),
        dict(_stream, weather='rain', rain_rate=50, name='50mm', domain=50),
        dict(_stream, weather='rain', rain_rate=75, name='75mm', domain=75),
        dict(_stream, weather='rain', rain_rate=100, name='100mm', domain=100),
        dict(_stream, weather='rain', rain_rate=200, name='200mm', domain=200),
    ],
    val=[
        val_clear,
        dict(_val, weather='rain', rain_rate=25, name='25mm', domain=25),
        dict(_val, weather='rain', rain_rate=50, name='50mm', domain=50),
        dict(_val, weather='rain', rain_rate=75, name='75mm', domain=75),
        dict(_val, weather='rain', rain_rate=100, name='100mm', domain=100),
        dict(_val, weather='rain', rain_rate=200, name='200mm', domain=200),
    ],
    test=dict(_val, weather='clear', name='clear', domain=0))
