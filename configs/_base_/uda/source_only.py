# No adaptation: the source model deployed as is (the reference of the tables).
uda = dict(
    type='SourceOnly',
    # ---- common to every method (see dacs.py) ----
    freeze_backbone=False,
    trainable_keys=[],
    ewc_lambda=0.0,
    ewc_fisher_batches=8,
    ewc_fisher_file=None,
    log_grad_magnitude=False,
    # BatchNorm layers of the student in eval mode during steps (source running
    # statistics, never updated by one-frame online batches).
    norm_eval=False,
    # One gradient-free train-mode forward of the student on each target frame so
    # the BatchNorm running statistics follow the target (AdaBN, run online).
    target_norm_stats=False,
)
