# The ProcCity conditions outside ACDC's four (wet road, lens drops, ego-motion blur),
# one stream set each at `severity` (frames of the `test` split) and held-out `val`
# sets of clear and of every condition. With proccity_acdc.py it covers every
# condition ProcCity renders at its hardest level. Rendered by tools/data/weather.py
# --wet 5 --lensdrops 5 --motionblur 5; the target city (clear weather, another style,
# layout and class mix: docs/proccity.md) by tools/data/proccity.py
# data/proccity_target --style target --train 0 --val 100 --test 100.
_base_ = ['./proccity_acdc.py']
proccity_target_root = 'data/proccity_target'  # the target city's root
_stream = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='test',
               validate='full', pipeline={{_base_.stream_pipeline}},
               severity={{_base_.severity}})
_val = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='val',
            validate='full', pipeline={{_base_.test_pipeline}},
            severity={{_base_.severity}})
data = dict(
    train=[
        {{_base_.source_train}},
        dict(_stream, weather='wet', name='wet5', domain=5),
        dict(_stream, weather='lensdrops', name='lensdrops5', domain=6),
        dict(_stream, weather='motionblur', name='motionblur5', domain=7),
        dict(_stream, data_root=proccity_target_root, weather='clear', severity=None,
             name='target_city', domain=8),
    ],
    val=[
        {{_base_.val_clear}},
        dict(_val, weather='wet', name='wet5', domain=5),
        dict(_val, weather='lensdrops', name='lensdrops5', domain=6),
        dict(_val, weather='motionblur', name='motionblur5', domain=7),
        dict(_val, data_root=proccity_target_root, weather='clear', severity=None,
             name='target_city', domain=8),
    ])
