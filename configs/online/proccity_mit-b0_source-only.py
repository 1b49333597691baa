# Source-only (the `make demo` and benchmark reference): the MiT-B0 source model is
# deployed as is; every frame is inference only. Stream: the demo's
# (_base_/online/proccity_demo.py: ACDC-like, 3 rounds of 20 frames per condition at
# 128x256); the benchmark merges its protocols over it. The `proccity_mit-b0_*`
# method configs run any ProcCity protocol.
_base_ = [
    '../_base_/online/proccity_source_model.py', '../_base_/models/segformer_mit-b0.py',
    '../_base_/uda/source_only.py',
    '../_base_/schedules/adamw.py', '../_base_/online/proccity_demo.py'
]
runner = dict(adapt=False)
log_config = dict(interval=30)
