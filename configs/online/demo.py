# `make demo` (tools/demo.py -> online_src.apis.demo.run_demo): what it renders, trains
# and runs, sized for a 2-core CPU (< 30 min from a fresh clone, < 15 min cached).
demo = dict(
    work_root='work_dirs/demo',
    threads=2,  # torch CPU threads
    # ProcCity at 128x256: 500 clear train images for the source model, `test`
    # images per domain form the stream (20 frames per visit, see
    # _base_/online/proccity_demo.py), `val` images per domain are held out (the
    # first 20 evaluated).
    data=dict(root='data/proccity', splits=dict(train=500, val=30, test=60),
              size=(128, 256), rain=(25, 50, 75, 100, 200), seed=0, workers=2),
    # trained once (configs/online/proccity_source_mit-b0.py), then cached
    source=dict(config='configs/online/proccity_source_mit-b0.py',
                checkpoint='pretrained/proccity_segformer_mit-b0_source.pth'),
    # method name -> online config; the report compares them in this order
    runs=dict(
        source_only='configs/online/proccity_storm_mit-b0_source-only.py',
        adabn='configs/online/proccity_storm_mit-b0_adabn.py',
        tent='configs/online/proccity_storm_mit-b0_tent.py',
        dacs='configs/online/proccity_storm_mit-b0_dacs.py',
        dacs_hamlet='configs/online/proccity_storm_mit-b0_dacs-hamlet.py'))
