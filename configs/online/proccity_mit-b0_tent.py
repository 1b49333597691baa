# TENT (Wang et al., ICLR 2021) online on the demo's ProcCity stream: entropy
# minimisation of each incoming frame, norm-layer affine parameters only, no
# source replay (TENT.needs_source is False).
_base_ = [
    '../_base_/online/proccity_source_model.py', '../_base_/models/segformer_mit-b0.py',
    '../_base_/uda/tent.py',
    '../_base_/schedules/adamw.py', '../_base_/online/proccity_demo.py'
]
# TENT updates only norm parameters: a larger step than the full-model default.
optimizer = dict(lr=1e-4)
log_config = dict(interval=30)
