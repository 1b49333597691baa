# Source-only on the ProcCity increasing storm (the `make demo` reference): the
# MiT-B0 source model is deployed as is; every frame is inference only.
# Stream: clear, 25, 50, 75, 100, 200, 100, 75, 50, 25 mm/h, clear; 20 frames per
# visit (220 frames) at 128x256, so the whole demo fits a 2-core CPU.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/segformer_mit-b0.py',
    '../_base_/uda/source_only.py',
    '../_base_/schedules/adamw.py', '../_base_/online/proccity_demo.py'
]
load_from = 'pretrained/proccity_segformer_mit-b0_source.pth'
runner = dict(adapt=False)
log_config = dict(interval=30)
