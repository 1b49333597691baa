# Runtime defaults shared by every config (mmseg 0.30 conventions).
custom_imports = dict(imports=['mmseg_ext', 'online_src'], allow_failed_imports=False)
log_config = dict(
    interval=50,
    hooks=[dict(type='TextLoggerHook', by_epoch=False)])
dist_params = dict(backend='nccl')  # tools/train.py switches to gloo on CPU
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
cudnn_benchmark = False
seed = 0
deterministic = False
# Full unpickling of load_from/resume_from (can run code): only for files you trust.
trusted_checkpoint = False
