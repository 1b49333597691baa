# Online AdaBN on the demo's ProcCity stream: the MiT-B0 source model, whose
# decoder BatchNorm running statistics are re-estimated on every frame (no loss, no
# weight change). The reference that tells how much of an adaptation method's gain
# the normalisation statistics alone give (docs/experiments.md).
_base_ = [
    '../_base_/online/proccity_source_model.py', '../_base_/models/segformer_mit-b0.py',
    '../_base_/uda/adabn.py',
    '../_base_/schedules/adamw.py', '../_base_/online/proccity_demo.py'
]
log_config = dict(interval=30)
