# What `make demo` (configs/online/demo.py) and the full ProcCity benchmark
# (configs/online/benchmark.py) share: the cached source model and the rows every
# report must have. Each suite sets its own methods, sizes and protocols.
# trained once (configs/online/proccity_source_mit-b0.py), then cached
source = dict(config='configs/online/proccity_source_mit-b0.py',
              checkpoint='pretrained/proccity_segformer_mit-b0_source.pth')
# rows every report has (a suite without them is refused before any work): the room
# left for gradient methods is oracle - adabn
baselines = ('source_only', 'adabn', 'oracle')
# keyword arguments of mmseg_ext.core.evaluation.evaluate_goals
goals = dict(acdc_protocol='acdc')
