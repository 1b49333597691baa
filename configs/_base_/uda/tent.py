# TENT (Wang et al., ICLR 2021; github.com/DequanWang/tent): entropy minimisation
# on each target batch, only LayerNorm/BatchNorm/GroupNorm affine parameters train
# (TENT's code takes BatchNorm's; a transformer normalises with LayerNorm): the
# 'norm_affine' mode of mmseg_ext/models/utils/trainable.py, applied after
# freeze_backbone/trainable_keys.
# Lists every key.
uda = dict(
    type='TENT',
    # ---- common to every method (see dacs.py) ----
    freeze_backbone=False,
    trainable_keys=[],
    ewc_lambda=0.0,
    ewc_fisher_batches=8,
    ewc_fisher_file=None,
    log_grad_magnitude=False,
    # Where BatchNorm statistics come from (fields: dacs.py and
    # mmseg_ext/models/utils/norm_stats.py); no source pass, no teacher.
    # predict: 'batch' (TENT's reference: predictions normalise with the
    # predicted batch's own statistics, nothing tracked; needs student='batch'
    # and target_pass=False) or 'running' (variant: the running statistics,
    # updated by every train-mode step: TENT plus online AdaBN, tent_adabn.py).
    norm_stats=dict(student='batch', predict='batch', source_pass=None,
                    target_pass=False, teacher=None),
)
