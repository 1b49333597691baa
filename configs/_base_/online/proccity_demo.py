# The CPU-sized ProcCity storm stream of `make demo`: the online runner and the
# ProcCity storm data, with the stream drawn from the `test` split (scenes the
# source model never saw; the dataset base streams `train`), 20 frames per visit
# (220 frames at 128x256), initial evaluation on every domain then only on the
# domain just streamed, on the first 20 images of each held-out `val` set.
_base_ = ['online_runner.py', '../datasets/proccity_storm.py']
runner = dict(frames_per_domain=20)
online_evaluation = dict(eval_domains='current', max_images=20)
checkpoint_config = dict(interval=110)
_stream_test = dict(type='ProcCityDataset', data_root={{_base_.data_root}}, subset='test',
                    validate='full', pipeline={{_base_.stream_pipeline}})
data = dict(train=[
    dict(type='SourceDataset', seed=0, rare_class_sampling={{_base_.rare_class_sampling}},
         dataset=dict(type='ProcCityDataset', data_root={{_base_.data_root}},
                      weather='clear', subset='train', name='source', domain=0,
                      validate='full', pipeline={{_base_.train_pipeline}})),
    dict(_stream_test, weather='clear', name='clear', domain=0),
    dict(_stream_test, weather='rain', rain_rate=25, name='25mm', domain=25),
    dict(_stream_test, weather='rain', rain_rate=50, name='50mm', domain=50),
    dict(_stream_test, weather='rain', rain_rate=75, name='75mm', domain=75),
    dict(_stream_test, weather='rain', rain_rate=100, name='100mm', domain=100),
    dict(_stream_test, weather='rain', rain_rate=200, name='200mm', domain=200),
])
