# The ProcCity ACDC-like stream (CoTTA, CVPR 2022, Cityscapes -> ACDC: fog, night,
# rain, snow, repeated): the clear source with rare-class sampling, one stream set per
# condition at `severity` (frames of the `test` split: scenes the source never saw),
# and held-out `val` sets of clear and of every condition. Rendered by
# tools/data/proccity.py + tools/data/weather.py --fog 5 --night 5 --rain 5 --snow 5.
_base_ = ['./proccity_storm.py']
# Severity (1..5) of every condition; 5 is the hardest level ProcCity renders, like
# ACDC's adverse images (not tuned on any method's result). The domain names
# below carry it (`fog5`): change both together.
severity = 5
_stream = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='test',
               validate='full', pipeline={{_base_.stream_pipeline}}, severity=severity)
_val = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='val',
            validate='full', pipeline={{_base_.test_pipeline}}, severity=severity)
data = dict(
    train=[
        {{_base_.source_train}},
        dict(_stream, weather='fog', name='fog5', domain=1),
        dict(_stream, weather='night', name='night5', domain=2),
        dict(_stream, weather='rain', name='rain5', domain=3),
        dict(_stream, weather='snow', name='snow5', domain=4),
    ],
    val=[
        {{_base_.val_clear}},
        dict(_val, weather='fog', name='fog5', domain=1),
        dict(_val, weather='night', name='night5', domain=2),
        dict(_val, weather='rain', name='rain5', domain=3),
        dict(_val, weather='snow', name='snow5', domain=4),
    ])
