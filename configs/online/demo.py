# `make demo` (tools/demo.py -> online_src.apis.demo.run_demo): what it renders, trains
# and runs, sized for a 2-core CPU (< 30 min from a fresh clone, < 15 min cached).
# The same suite at full size is configs/online/benchmark.py; the source model and
# baselines of both: _base_/online/proccity_suite.py.
_base_ = ['../_base_/online/proccity_suite.py']
demo = dict(
    work_root='work_dirs/demo',
    threads=2,  # torch CPU threads
    resume=False,  # True: keep the finished runs of the same configs in work_root
    #               (make demo measures every run, so it runs them all again)
    # ProcCity at 128x256: 500 clear train images for the source model; `test` images
    # per condition form the stream (20 frames per visit, see
    # _base_/online/proccity_demo.py), `val` images per condition are held out (40
    # evaluated). Conditions (fog in m, rain in mm/h, others severities 1..5) are
    # rendered on val and test only.
    data=dict(root='data/proccity', splits=dict(train=500, val=40, test=60),
              size=(128, 256), weather=dict(fog=(75,), night=(5,), rain=(200,), snow=(5,)),
              weather_splits=('val', 'test'), seed=0, workers=2),
    source={{_base_.source}},
    # protocol name -> protocol file merged over each method config; None: the
    # method configs' own stream (_base_/online/proccity_demo.py, ACDC-like)
    protocols=dict(acdc=None),
    # method name -> online config; the report compares them in this order. The
    # benchmark's CoTTA is left out: ~2.2 s per frame on 2 cores (14 augmented
    # teacher passes), 9 min of the stream; add it with
    # --cfg-options demo.runs.cotta=configs/online/proccity_mit-b0_cotta.py
    runs=dict(
        source_only='configs/online/proccity_mit-b0_source-only.py',
        adabn='configs/online/proccity_mit-b0_adabn.py',
        oracle='configs/online/proccity_mit-b0_oracle.py',
        tent='configs/online/proccity_mit-b0_tent.py',
        dacs='configs/online/proccity_mit-b0_dacs.py'),
    baselines={{_base_.baselines}},
    goals={{_base_.goals}})
