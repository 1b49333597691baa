# An ACDC-like stream on the two conditions the ProcCity renderer had first: fog of
# 75 m visibility and rain of 200 mm/h (the hardest levels of the storm and of the
# fog series), frames of the `test` split, held-out `val` sets of clear, fog and
# rain. Rendered by tools/data/weather.py --rain 200 --fog 75 --splits val test.
_base_ = ['./proccity_storm.py']
_stream = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='test',
               validate='full', pipeline={{_base_.stream_pipeline}})
_val = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='val',
            validate='full', pipeline={{_base_.test_pipeline}})
data = dict(
    train=[
        {{_base_.source_train}},
        dict(_stream, weather='fog', visibility=75, name='fog75m', domain=75),
        dict(_stream, weather='rain', rain_rate=200, name='200mm', domain=200),
    ],
    val=[
        {{_base_.val_clear}},
        dict(_val, weather='fog', visibility=75, name='fog75m', domain=75),
        dict(_val, weather='rain', rain_rate=200, name='200mm', domain=200),
    ])
