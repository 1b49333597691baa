# CoTTA (Wang et al., CVPR 2022), segmentation settings of the paper and of its
# Cityscapes -> ACDC code (qinenergy/cotta, single_gpu_cotta). Lists every key.
# Its protocol's optimizer is ../schedules/adam_cotta.py (Adam 7.5e-6).
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
    # Where the source (anchor) model's scale-1 confidence is above this, the
    # pseudo-label is the teacher's scale-1 view, elsewhere its augmentation
    # average (0.69: below the 5% quantile 0.74 of Cityscapes, the reference's).
    anchor_threshold=0.69,
    # Teacher augmentations: input scales, each also flipped.
    aug_scales=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0],
    aug_flip=True,
    # Project variant. False (reference): the student adapts in eval mode:
    # source BatchNorm running statistics, no dropout or drop-path. True: train
    # mode: the model's dropout/drop-path act and BatchNorm normalises with the
    # frame's statistics and folds them into its running ones (what
    # target_norm_stats needs).
    student_train_mode=False,
    # Project variant. False (reference): the EMA averages parameters only, the
    # teacher keeps the source BatchNorm statistics. True: it copies the
    # student's running statistics every step, which (with student_train_mode
    # or target_norm_stats) adds online AdaBN to the deployed prediction.
    teacher_copy_norm_stats=False,
)
