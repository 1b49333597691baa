# TENT (Wang et al., ICLR 2021; github.com/DequanWang/tent): entropy minimisation
# on each target batch, only LayerNorm/BatchNorm/GroupNorm affine parameters train
# (TENT's code takes BatchNorm's; a transformer normalises with LayerNorm).
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
    # BatchNorm layers of the student in eval mode during steps (source running
    # statistics, never updated by one-frame online batches). Needs
    # predict_batch_stats=False.
    norm_eval=False,
    # One gradient-free train-mode forward of the student on each target frame so
    # the BatchNorm running statistics follow the target (AdaBN, run online).
    # Needs predict_batch_stats=False.
    target_norm_stats=False,
    # ---- TENT ----
    # Batch-norm layers normalise with the target batch's statistics during
    # adaptation steps.
    use_batch_stats=True,
    # True (reference): predictions (stream and evaluation) normalise with the
    # statistics of the batch predicted and no running statistic is tracked.
    # False (project variant): predict with the running statistics, which each
    # train-mode step updates (TENT plus online AdaBN).
    predict_batch_stats=True,
)
