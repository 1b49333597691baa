# `make demo` (tools/demo.py -> online_src.apis.demo.run_demo): what it renders, trains
# and runs, sized for a 2-core CPU (< 30 min from a fresh clone, < 15 min cached).
# The same suite at full size is configs/online/benchmark.py.
demo = dict(
    work_root='work_dirs/demo',
    threads=2,  # torch CPU threads
    # ProcCity at 128x256: 500 clear train images for the source model; `test` images
    # per condition form the stream (20 frames per visit, see
    # _base_/online/proccity_demo.py), `val` images per condition are held out (40
    # evaluated). Conditions (fog in m, rain in mm/h, others severities 1..5) are
    # rendered on val and test only.
    data=dict(root='data/proccity', splits=dict(train=500, val=40, test=60),
              size=(128, 256), weather=dict(fog=(75,), night=(5,), rain=(200,), snow=(5,)),
              weather_splits=('val', 'test'), seed=0, workers=2),
    # trained once (configs/online/proccity_source_mit-b0.py), then cached
    source=dict(config='configs/online/proccity_source_mit-b0.py',
                checkpoint='pretrained/proccity_segformer_mit-b0_source.pth'),
    # protocol name -> protocol file merged over each method config; None: the
    # method configs' own stream (_base_/online/proccity_demo.py, ACDC-like)
    protocols=dict(acdc=None),
    # method name -> online config; the report compares them in this order
    runs=dict(
        source_only='configs/online/proccity_mit-b0_source-only.py',
        adabn='configs/online/proccity_mit-b0_adabn.py',
        oracle='configs/online/proccity_mit-b0_oracle.py',
        tent='configs/online/proccity_mit-b0_tent.py',
        dacs='configs/online/proccity_mit-b0_dacs.py',
        # CoTTA (published teacher and restore): the published Cityscapes -> ACDC
        # sign CoTTA vs source is goal 4 of bench/proccity_goals.py
        cotta='configs/online/proccity_mit-b0_cotta.py'),
    # rows every report has: the room left for gradient methods is oracle - adabn
    baselines=('source_only', 'adabn', 'oracle'),
    # keyword arguments of mmseg_ext.core.evaluation.evaluate_goals
    goals=dict(acdc_protocol='acdc'))
