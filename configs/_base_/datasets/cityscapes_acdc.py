# Cityscapes -> ACDC (CoTTA, CVPR 2022): Cityscapes source (RCS) then the ACDC conditions
# fog, night, rain, snow. Use with
# runner.domain_order=['acdc_fog', 'acdc_night', 'acdc_rain', 'acdc_snow'] (repeated).
# Roots: cityscapes_root (source) and acdc_root (stream and held-out sets);
# docs/datasets.md.
_base_ = ['./cityscapes.py']
stream = dict(type='ACDCDataset', data_root={{_base_.acdc_root}}, subset='train',
              validate='exists', pipeline={{_base_.stream_pipeline}})
held_out = dict(stream, subset='val', pipeline={{_base_.test_pipeline}})
data = dict(
    _delete_=True,
    samples_per_gpu=1,
    workers_per_gpu=0,
    train=[
        {{_base_.source_dataset}},
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
