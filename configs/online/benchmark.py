# The full ProcCity benchmark (bench/proccity_benchmark.py ->
# online_src.apis.demo.run_benchmark): every method on the increasing storm, the
# ACDC-like protocol and the other conditions, at full size (100 frames per visit,
# 100 held-out images per domain), from the same cached source model as `make demo`.
# Goals: bench/proccity_goals.py work_dirs/proccity_benchmark.
_base_ = ['../_base_/online/proccity_suite.py']
benchmark = dict(
    work_root='work_dirs/proccity_benchmark',
    threads=2,  # torch CPU threads
    resume=True,  # keep the finished runs of the same configs in work_root
    # (status.json 'finished', latest.pth written by the same config, data_stamp.json of
    # the same renders): the suite took 2.7 h on 2 cores (docs/benchmark.md), the same
    # command finishes it after a stop; report.md sums every run's own wall time
    # ProcCity at 128x256: 500 clear train images (the source model), 100 `val`
    # (held out) and 100 `test` (stream) images per domain; rain in mm/h (the storm),
    # fog visibility in m, the other conditions at severity 5.
    data=dict(root='data/proccity', splits=dict(train=500, val=100, test=100),
              size=(128, 256),
              weather=dict(rain=(25, 50, 75, 100, 200), fog=(75,), night=(5,), snow=(5,),
                           wet=(5,), lensdrops=(5,), motionblur=(5,)),
              weather_splits=('val', 'test'), seed=0, workers=2,
              # the target city of the conditions protocol: 100 held-out, 100 stream
              target_city=dict(root='data/proccity_target', splits=dict(val=100, test=100))),
    source={{_base_.source}},
    # protocol name -> protocol file merged over each method config
    protocols=dict(
        storm='configs/_base_/online/proccity_storm_full.py',
        acdc='configs/_base_/online/proccity_acdc.py',
        conditions='configs/_base_/online/proccity_conditions.py'),
    # method name -> online config; the report compares them in this order. CoTTA
    # (published teacher and restore) gives goal 4's sign CoTTA vs source.
    runs=dict(
        source_only='configs/online/proccity_mit-b0_source-only.py',
        adabn='configs/online/proccity_mit-b0_adabn.py',
        oracle='configs/online/proccity_mit-b0_oracle.py',
        tent='configs/online/proccity_mit-b0_tent.py',
        dacs='configs/online/proccity_mit-b0_dacs.py',
        cotta='configs/online/proccity_mit-b0_cotta.py'),
    baselines={{_base_.baselines}},
    goals={{_base_.goals}})
