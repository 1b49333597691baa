# Runtime defaults shared by every config (mmseg 0.30 conventions).
custom_imports = dict(imports=['mmseg_ext', 'online_src'], allow_failed_imports=False)
# Training scalars every `interval` iterations (online runs: frames), averaged over
# them; ignore_last=False also logs at the end of each pass / visit, so a stream
# shorter than `interval` still logs its losses.
log_config = dict(
    interval=50,
    hooks=[
        dict(type='TextLoggerHook', by_epoch=False, ignore_last=False),
        # a scalar per logged key under <work_dir>/tf_logs; online runs step by
        # frames streamed, the evaluation before the stream at step 0
        dict(type='StreamTensorboardLoggerHook', by_epoch=False, ignore_last=False),
    ])
# Weights & Biases (optional, never required): enabled=True appends mmcv's
# WandbLoggerHook (mmseg_ext.core.resolve_log_config); needs `pip install wandb`.
wandb = dict(enabled=False, init_kwargs=dict(project='onda-seg'), log_artifact=False)
dist_params = dict(backend='nccl')  # tools/train.py switches to gloo on CPU
log_level = 'INFO'
load_from = None
# How to make `load_from` when it is absent (quoted in the error raised before an
# online run builds anything); the sweeps of config.py set it per dataset.
load_from_recipe = None
resume_from = None
workflow = [('train', 1)]
cudnn_benchmark = False
seed = 0
deterministic = False
# Full unpickling of load_from/resume_from (can run code): only for files you trust.
trusted_checkpoint = False
