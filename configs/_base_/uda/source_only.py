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
    # Where BatchNorm statistics come from (fields: dacs.py and
    # mmseg_ext/models/utils/norm_stats.py); no source pass, no teacher.
    # target_pass=True: online AdaBN (adabn.py).
    norm_stats=dict(student='batch', predict='running', source_pass=None,
                    target_pass=False, teacher=None),
)
