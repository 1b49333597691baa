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
    adapt=True,  # False: inference only (the source-only baseline)
    replay_source=None,  # pair target frames with source batches; None: ask the method
    replay_buffer_size=0,  # source batches kept in memory and replayed; 0: read every step
    shuffle_source=True,  # seeded shuffle of the source order
    # HAMLET training budget: adapt `budget` frames after each trigger, then infer only
    budget=None,  # None: adapt on every frame
    budget_trigger='detector',  # 'detector' (detected change) | 'domain' (visit start, oracle)
    # HAMLET domain-shift detector on a running statistic of a per-frame signal
    domain_detector=dict(
        enabled=False,
        signal='entropy',  # 'entropy' (free) | 'reference_loss' (frozen source model)
        window=10,  # recent frames compared with the domain's level
        threshold=0.2,  # relative change |recent - level| / level that is a change
        min_frames=10),  # frames of level needed before the next detection
    # reaction to a detected change: learning rate (and DACS mix ratio) boost + decay
    adaptive_schedule=dict(
        lr_policy='constant',  # 'constant' | 'adaptive'
        lr_gain=2.0,  # scale = 1 + lr_gain * |relative jump|
        lr_max_scale=5.0,
        lr_min_scale=1.0,
        decay_frames=100,  # linear decay of the boost
        mix_ratio=None,  # passed to the method each step; None: the method's default
        mix_ratio_max=None,  # with 'adaptive': right after a change, decays to mix_ratio
        warmup_frames=0),  # linear lr warm-up over the first adapted frames; 0: none
    # HAMLET modular training (MAD): backward only through modules k..total_modules
    modular_training=False,
    training_policy='mad',  # 'mad' | 'random' | 'fixed'
    total_modules=4,
    fixed_module=1,  # the module of the 'fixed' policy (1 = everything)
    alpha=0.1,  # decay of MAD's gain histogram
    temperature=1.0,  # softmax temperature of MAD's choice
    mad_time_update=True,  # weigh gains by measured step time (least expensive)
    num_classes=19,  # stream accuracy
    ignore_index=255,
    # a step whose loss or gradient is NaN/inf is never applied; 'stop' ends the run
    # naming frame, domain and loss terms (no summary.json, no NaN latest.pth);
    # 'skip' goes on without that step and counts it (summary.json nonfinite_skipped)
    nonfinite_loss='stop')
# mmseg_ext.core.evaluation.OnlineEvalHook: before the stream and after each domain
online_evaluation = dict(
    eval_domains='all',  # 'all' | 'current' (only the set of the domain just streamed)
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
