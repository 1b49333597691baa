# The "increasing storm" of OnDA (ECCV 2022) / HAMLET (ICCV 2023) on real data:
# Cityscapes source (RCS) then rainy Cityscapes at 25..200 mm/h, in the online layout of
# docs/interfaces.md. Stream: the val split's frames with labels (the only labelled
# scenes the source model never trained on; HAMLET's public configs stream the
# rainy train split, the source's own scenes); held-out evaluation: the val split.
# Roots: cityscapes_root (clear images, all labels, RCS statistics) and
# rain_cityscapes_root (the rain download's own tree, images only); docs/datasets.md.
_base_ = ['./cityscapes.py']
stream = dict(type='RainCityscapesDataset', data_root={{_base_.rain_cityscapes_root}},
              label_root={{_base_.cityscapes_root}}, subset='val', validate='exists',
              pipeline={{_base_.stream_pipeline}})
held_out = dict(stream, subset='val', pipeline={{_base_.test_pipeline}})
clear = dict(type='CityscapesDomainDataset', data_root={{_base_.cityscapes_root}},
             name='clear', domain=0, validate='exists')
data = dict(
    _delete_=True,
    samples_per_gpu=1,
    workers_per_gpu=0,
    train=[
        {{_base_.source_dataset}},
        dict(clear, img_dir='leftImg8bit/val', ann_dir='gtFine/val',
             pipeline={{_base_.stream_pipeline}}),
        dict(stream, rain_rate=25, name='25mm', domain=25),
        dict(stream, rain_rate=50, name='50mm', domain=50),
        dict(stream, rain_rate=75, name='75mm', domain=75),
        dict(stream, rain_rate=100, name='100mm', domain=100),
        dict(stream, rain_rate=200, name='200mm', domain=200),
    ],
    val=[
        dict(clear, img_dir='leftImg8bit/val', ann_dir='gtFine/val',
             pipeline={{_base_.test_pipeline}}),
        dict(held_out, rain_rate=25, name='25mm', domain=25),
        dict(held_out, rain_rate=50, name='50mm', domain=50),
        dict(held_out, rain_rate=75, name='75mm', domain=75),
        dict(held_out, rain_rate=100, name='100mm', domain=100),
        dict(held_out, rain_rate=200, name='200mm', domain=200),
    ],
    test=dict(clear, img_dir='leftImg8bit/val', ann_dir='gtFine/val',
              pipeline={{_base_.test_pipeline}}))
