# Hyper-parameter search (tools/search.py, online_src/apis/search.py): every key with
# its default. An experiment config inherits this file and fills `params`.
search = dict(
    # Ranges, keyed by dotted config path (list items by index), e.g.
    # {'optimizer.lr': dict(type='float', low=1e-5, high=1e-3, log=True),
    #  'uda.alpha': dict(type='float', low=0.99, high=0.9999),
    #  'uda.pseudo_threshold': dict(type='float', low=0.8, high=0.99),
    #  'model.backbone.adapter_width': dict(type='categorical', choices=[16, 32, 64])}
    # type: 'float' | 'int' (low, high, log=False, step=None) | 'categorical' (choices).
    params=dict(),
    # Metrics the objective returns, in order; two or three give a Pareto front.
    # An online run returns 'mIoU' (mean held-out mIoU over the stream),
    # 'adapt_fps' (frames/s of the frames it adapted on), 'fps' (frames/s of the
    # whole stream), 'inference_fps' and the other keys of summarize_run.
    objectives=[dict(metric='mIoU', direction='maximize')],
    # Optuna sampler by name: NSGAIISampler (genetic, default), NSGAIIISampler,
    # TPESampler, RandomSampler; other keys are its arguments. The seed is offset
    # by the worker id so parallel workers draw different first generations.
    sampler=dict(type='NSGAIISampler', population_size=8, seed=0),
    n_trials=16,  # trials added by each worker (run more workers to go faster)
    timeout=None,  # seconds after which a worker stops starting trials
    # Study store: an SQLite file (embedded) or postgresql://user@host:port/db to
    # share one study between workers on many machines.
    storage='sqlite:///work_dirs/search/study.db',
    study_name='search',
    # A running trial writes a heartbeat every this many seconds; the trials of a
    # worker that died (no heartbeat for twice that) are marked failed. None: off.
    heartbeat_interval=60,
    work_dir='work_dirs/search',  # trials run in <work_dir>/<study_name>/trial_NNNN
    show_progress_bar=True)
