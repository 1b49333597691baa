# DACS (Tranheden et al., WACV 2021) with DAFormer's refinements (Hoyer et al.,
# CVPR 2022), run online as in HAMLET. This file is the schema: it lists every
# key of the DACS decorator with its default; variants override what changes.
# The defaults reproduce DAFormer's public code (mmseg/models/uda/dacs.py,
# mmseg/models/utils/dacs_transforms.py; HAMLET's are the same), pinned by
# tests/test_reference/test_dacs_reference.py; the keys marked "variant" are the
# project's departures from it.
uda = dict(
    type='DACS',
    # ---- common to every method (UDADecorator) ----
    # Freeze the student's backbone except parameters whose name contains one of
    # trainable_keys (adapters); the EMA teacher and reference copy the student.
    # Which parameters train is resolved in one place,
    # mmseg_ext/models/utils/trainable.py (set_trainable, mode 'keys').
    freeze_backbone=False,
    trainable_keys=[],
    # EWC (Kirkpatrick et al., 2017): lambda/2 * sum F (theta - theta_src)^2 on the
    # trainable parameters; Fisher from ewc_fisher_batches source batches, cached
    # in ewc_fisher_file (None: recomputed every run). 0 disables it.
    ewc_lambda=0.0,
    ewc_fisher_batches=8,
    ewc_fisher_file=None,
    # Log the L2 norm of each loss term's gradient as grad_mag.<term>.
    log_grad_magnitude=False,
    # Where BatchNorm statistics come from (mmseg_ext/models/utils/norm_stats.py;
    # a config sets only the fields it changes). Replaces norm_eval,
    # target_norm_stats, source_norm_stats, teacher_norm, use_batch_stats,
    # predict_batch_stats, student_train_mode and teacher_copy_norm_stats, still
    # read as deprecated aliases.
    norm_stats=dict(
        # The student during steps: 'batch' (train mode, each batch's
        # statistics folded into the running ones) or 'running' (eval mode:
        # source running statistics, never updated by one-frame batches).
        student='batch',
        # Predictions (stream, evaluation): 'running' statistics.
        predict='running',
        # The supervised source pass folds its batch statistics into the
        # student's running ones (False: only the mixed and target passes
        # estimate them).
        source_pass=True,
        # One gradient-free train-mode forward of the student on each target
        # frame so the running statistics follow the target (AdaBN, run online).
        target_pass=False,
        # The EMA teacher's statistics. 'batch' (published): DAFormer's and
        # HAMLET's teacher runs in train mode (dropout and drop-path off), so its
        # BatchNorm normalises each target frame with that frame's own statistics;
        # the EMA averages parameters only. 'student_running' (variant): the teacher
        # runs in eval mode with the student's running statistics copied in at every
        # EMA update. Why: with one-frame online batches the frame's own statistics
        # are noisy and follow the frame, while the student's running statistics
        # average the stream (with target_pass=True: the target frames); on a
        # small model it changes the pseudo-label weight more than anything else
        # (issue 14: 0.0037 vs 0.4954 at step 0).
        teacher='batch',
    ),
    # ---- DACS ----
    # EMA teacher momentum, warmed up as min(1 - 1/(t+1), alpha).
    alpha=0.999,
    # Pseudo-label confidence threshold; the pseudo-label weight is the fraction
    # of pixels at or above it.
    pseudo_threshold=0.968,
    # Pseudo-label crop: rows with zero weight at the top/bottom, given for
    # images pseudo_weight_ref_height rows high and scaled to the input height.
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    pseudo_weight_ref_height=512,
    # Feature distance of the student's last-stage features to a frozen
    # reference (the source model) on the source image; 0 builds no reference.
    imnet_feature_dist_lambda=0.0,
    imnet_feature_dist_classes=None,
    imnet_feature_dist_scale_min_ratio=0.75,
    # Same distance on the target image, without class mask.
    target_feature_dist_lambda=0.0,
    # Teacher / reference: 'mirror' the student's adapters or the plain
    # 'pretrained' model (adapters switched off).
    reference_mode='mirror',
    teacher_mode='mirror',
    # ClassMix pastes min(int((n + n % 2) * r), n) of the n candidate classes
    # (HAMLET's dynamic ClassMix; r = 0.5 is DACS' int((n + n % 2) / 2), half
    # rounded up), chosen by np.random.choice as DAFormer. The step kwarg
    # mix_ratio overrides r (HAMLET's dynamic DACS).
    mix_class_ratio=0.5,
    # ClassMix candidates: 'batch' (published: DAFormer and HAMLET take
    # torch.unique of the whole source batch, the ignore label included), 'image'
    # (the original DACS code: each image's own labels, ignore included),
    # 'image_valid' (variant: each image's labels without the ignore label, so
    # the count is over real classes and no ignored region is pasted). The three
    # agree on one-image batches whose label has no ignored pixels.
    mix_class_candidates='batch',
    # DACS strong augmentation of the mixed image: per step, colour jitter when a
    # uniform draw exceeds color_jitter_probability and blur when one exceeds 0.5
    # (Python's random, as DAFormer); blur sigma U[0.15, 1.15), kernel the odd one
    # of ceil(0.1 * side) and ceil(0.1 * side) - 1 (DAFormer's rule).
    blur=True,
    color_jitter_strength=0.2,
    color_jitter_probability=0.2,
    # Colour-jitter formulas: 'kornia058' (published: kornia 0.5.8's ColorJitter as
    # DACS, DAFormer and HAMLET call it; additive brightness, multiplicative
    # contrast, saturation scaled in HSV, hue rotation, in a random order) or
    # 'torchvision' (variant: torchvision's ColorJitter, multiplicative brightness,
    # contrast towards the mean grey, saturation as a blend with grey; the
    # project's jitter before issue 14, kept to compare runs made with it).
    jitter_impl='kornia058',
    # Train on the augmented target with pseudo-labels instead of the mix.
    target_only=False,
    # Weights of the source (clean) and mixed losses.
    clean_loss_weight=1.0,
    mix_loss_weight=1.0,
    # Mix with the target labels (target_gt_semantic_seg) instead of
    # pseudo-labels: an upper bound, needs a labelled stream.
    oracle=False,
    # Entropy of the student on the target (DACS+TENT); 0 disables it.
    entropy_lambda=0.0,
)
