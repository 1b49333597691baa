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
    # Where BatchNorm statistics come from (fields: dacs.py and
    # mmseg_ext/models/utils/norm_stats.py); no source pass.
    # student: 'running' (reference: the whole student adapts in eval mode,
    # source BatchNorm statistics, no dropout or drop-path) or 'batch' (variant:
    # train mode, dropout/drop-path active, BatchNorm normalising with the
    # frame's statistics and folding them in; needed by target_pass=True).
    # teacher: 'source' (reference: the EMA averages parameters only) or
    # 'student_running' (variant: the student's running statistics copied in
    # every step; with student='batch' online AdaBN in the deployed prediction).
    norm_stats=dict(student='running', predict='running', source_pass=None,
                    target_pass=False, teacher='source'),
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
)
