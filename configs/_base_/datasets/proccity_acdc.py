# The ProcCity ACDC-like stream (CoTTA, CVPR 2022, Cityscapes -> ACDC: fog, night,
# rain, snow, repeated): the clear source with rare-class sampling, one stream set per
# condition at its hardest level (frames of the `test` split: scenes the source never
# saw), and held-out `val` sets of clear and of every condition. Rendered by
# tools/data/proccity.py + tools/data/weather.py --rain 200 --fog 75 --night 5 --snow 5.
_base_ = ['./proccity_storm.py']
# The hardest level ProcCity renders of each condition, like ACDC's adverse images
# (fixed before any method ran, not tuned on results): fog of 75 m visibility, rain
# of 200 mm/h, night and snow at severity 5 (1..5). The names carry the levels.
severity = 5
_stream = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='test',
               validate='full', pipeline={{_base_.stream_pipeline}})
_val = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='val',
            validate='full', pipeline={{_base_.test_pipeline}})
data = dict(
    train=[
        {{_base_.source_train}},
        dict(_stream, weather='fog', visibility=75, name='fog75m', domain=75),
        dict(_stream, weather='night', severity=severity, name='night5', domain=5),
        dict(_stream, weather='rain', rain_rate=200, name='200mm', domain=200),
        dict(_stream, weather='snow', severity=severity, name='snow5', domain=5),
    ],
    val=[
        {{_base_.val_clear}},
        dict(_val, weather='fog', visibility=75, name='fog75m', domain=75),
        dict(_val, weather='night', severity=severity, name='night5', domain=5),
        dict(_val, weather='rain', rain_rate=200, name='200mm', domain=200),
        dict(_val, weather='snow', severity=severity, name='snow5', domain=5),
    ])
