# What `make demo` (configs/online/demo.py) and the full ProcCity benchmark
# (configs/online/benchmark.py) share: the cached source model, the methods and the
# rows every report must have. Each suite sets its own sizes and protocols.
# trained once (configs/online/proccity_source_mit-b0.py), then cached
source = dict(config='configs/online/proccity_source_mit-b0.py',
              checkpoint='pretrained/proccity_segformer_mit-b0_source.pth')
# method name -> online config; the reports compare them in this order. CoTTA
# (published teacher and restore) gives goal 4's sign CoTTA vs source.
runs = dict(
    source_only='configs/online/proccity_mit-b0_source-only.py',
    adabn='configs/online/proccity_mit-b0_adabn.py',
    oracle='configs/online/proccity_mit-b0_oracle.py',
    tent='configs/online/proccity_mit-b0_tent.py',
    dacs='configs/online/proccity_mit-b0_dacs.py',
    cotta='configs/online/proccity_mit-b0_cotta.py')
# rows every report has (a suite without them is refused before any work): the room
# left for gradient methods is oracle - adabn
baselines = ('source_only', 'adabn', 'oracle')
# keyword arguments of mmseg_ext.core.evaluation.evaluate_goals
goals = dict(acdc_protocol='acdc')
