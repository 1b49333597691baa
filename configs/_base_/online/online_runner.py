# The online runner (online_src.OnlineRunner) and its evaluation: every key with its
# default. This file is the schema; the variants next to it override only what they
# change. Protocol: OnDA (ECCV 2022) / HAMLET (ICCV 2023) "increasing storm".
runner = dict(
    type='OnlineRunner',
    # target domains in stream order, by dataset `name` (data.train[1:])
    domain_order=['clear', '25mm', '50mm', '75mm', '100mm', '200mm', '100mm', '75mm',
                  '50mm', '25mm', 'clear'],
    frames_per_domain=None,  # frames per visit (wraps around); None: each set once
    shuffle_stream=False,  # seeded shuffle of the frames of each visit
    seed=None,  # of the stream order, replay draws and policies; None: the config's `seed`
    adapt=True,  # False: inference only (the source-only baseline)
    replay_source=None,  # pair target frames with source batches; None: ask the method
    replay_buffer_size=0,  # source batches kept in memory and replayed; 0: read every step
    shuffle_source=True,  # seeded shuffle of the source order
    # HAMLET's source buffer (online_src.SourceSubset): the source stream cycles through
    # `size` samples chosen once; None streams the whole source (hamlet.py sets it)
    source_buffer=dict(
        size=None,  # samples in the buffer (HAMLET: 1000); None: no buffer
        policy='rare_class_sampling',  # how they are chosen | 'uniform'
        # 'dataset': read through the source dataset, whose RCS draws ignore the
        # index (HAMLET's code) | 'subset': the chosen samples themselves
        read='dataset'),
    # When and how to adapt (online_src.OnlineController): HAMLET's parts, each in
    # its own section. The runner streams; the controller decides per frame (adapt?,
    # lr, mix ratio, module) and observes the step (loss, time, detector signal).
    # The flat runner keys of earlier configs (budget, domain_detector, alpha, ...)
    # are still read, with a warning (online_src.DEPRECATED_RUNNER_KEYS).
    controller=dict(
        # HAMLET training budget (online_src.Budget): adapt `frames` frames after each
        # trigger, then infer only (the project's budget; HAMLET's own is
        # schedule type='hamlet')
        budget=dict(
            frames=None,  # None: adapt on every frame
            trigger='detector'),  # 'detector' (detected change) | 'domain' (visit start, oracle)
        # Domain-shift detector (online_src.build_domain_detector). The keys below are
        # HAMLET's (type='hamlet', published); the project's detector is
        # type='relative' with keys signal, window, threshold, min_frames,
        # reference_module (select it with _delete_=True, see hamlet_budget.py).
        detector=dict(
            enabled=False,
            type='hamlet',  # 'hamlet': window means vs absolute thresholds | 'relative'
            # 'reference_loss': CE of a frozen copy of the source model (the method's
            # make_reference) against the student's prediction (HAMLET) | 'entropy'
            # (free, the deployed model's)
            signal='reference_loss',
            reference_module=1,  # the frozen model decodes from module 1 (HAMLET's
            #                      lightweight decoder); None: its full output
            window=75,  # frames per window (HAMLET: 75 Cityscapes, 200 SHIFT)
            threshold_up=0.23,  # rise of the window-mean loss that is a change
            threshold_down=-0.23),  # fall that is a change
        # Reaction to a detected change (online_src.build_schedule). The keys below are
        # the project's (type='boost'); 'constant' with no mix ratio is plain online
        # adaptation. HAMLET's budget + lr + dynamic ClassMix is type='hamlet' (keys
        # and values in hamlet.py).
        schedule=dict(
            type='boost',  # 'boost' (the project's) | 'hamlet' (published, needs the detector)
            lr_policy='constant',  # 'constant' | 'adaptive'
            lr_gain=2.0,  # scale = 1 + lr_gain * |relative jump|
            lr_max_scale=5.0,
            lr_min_scale=1.0,
            decay_frames=100,  # linear decay of the boost
            mix_ratio=None,  # passed to the method each step; None: the method's default
            mix_ratio_max=None,  # with 'adaptive': right after a change, decays to mix_ratio
            warmup_frames=0),  # linear lr warm-up over the first adapted frames; 0: none
        # HAMLET modular training (MAD, online_src.build_module_policy): backward only
        # through modules k..total_modules
        module_policy=dict(
            enabled=False,
            # 'mad': HAMLET's (argmax of a histogram of loss-trend gains weighted by
            # fixed module weights) | 'mad_sampled': the project's (softmax draws over
            # gains per measured second) | 'random' | 'fixed'
            type='mad',
            # the step's log_vars entry the policy learns from (HAMLET:
            # 'mix.decode.loss_ce'); None: the method's policy_loss (the sum of the
            # step's loss terms)
            loss=None,
            total_modules=4,
            fixed_module=1,  # the module of the 'fixed' policy (1 = everything)
            decay=0.1,  # each update keeps 1 - decay of the gain histogram, adds decay x gain
            temperature=1.75,  # 'mad': of softmax(module_speeds); 'mad_sampled': of the draw
            time_update=True,  # weigh gains by module cost ('mad': fixed weights)
            module_speeds=(4.21, 4.83, 5.11, 5.73))),  # HAMLET's per-module scores (MiT-B1)
    num_classes=19,  # stream accuracy
    ignore_index=255,
    # a step whose loss or gradient is NaN/inf is never applied; 'stop' ends the run
    # naming frame, domain and loss terms (no summary.json, no NaN latest.pth);
    # 'skip' goes on without that step and counts it (summary.json nonfinite_skipped)
    nonfinite_loss='stop')
# mmseg_ext.core.evaluation.OnlineEvalHook: before the stream and after each domain
online_evaluation = dict(
    # 'stream' (the sets of the domains runner.domain_order visits, before the stream
    # and after each visit) | 'all' (every set in data.val) | 'current' (every set
    # before the stream, then only the set of the domain just streamed)
    eval_domains='stream',
    samples_per_gpu=1,  # test batch size
    show=False,  # write colour predictions (to out_dir or <work_dir>/show)
    out_dir=None,
    plot=True,  # miou_stream.png after each evaluation
    plot_name='miou_stream.png',
    max_images=None)  # evaluate only the first N images of each set (CPU budget)
# resumable mid-stream: a checkpoint every `interval` frames (atomic, plus latest.pth)
checkpoint_config = dict(by_epoch=False, interval=500, max_keep_ckpts=2)
# run again in a work dir holding a run (the old one is moved aside, removed after frame 1)
overwrite = False
# a terminal progress bar over the stream's frames with its ETA (tqdm, on stderr);
# desc None: the work dir's name
progress_bar = dict(enabled=True, desc=None)
