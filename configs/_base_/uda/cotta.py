# CoTTA (Wang et al., CVPR 2022), segmentation settings of the paper. Lists
# every key.
uda = dict(
    type='CoTTA',
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
    # ---- CoTTA ----
    # Teacher EMA momentum (no warm-up).
    alpha=0.999,
    # Each trainable weight returns to its source value with this probability
    # after every step.
    restore_probability=0.01,
    # Where the source (anchor) model's confidence is below this, the
    # pseudo-label is the teacher's augmentation average.
    anchor_threshold=0.69,
    # Teacher augmentations: input scales, each also flipped.
    aug_scales=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0],
    aug_flip=True,
)
