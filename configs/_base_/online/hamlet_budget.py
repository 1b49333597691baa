# HAMLET-style budgeted adaptation: the entropy detector restarts a budget of
# adapted frames after each detected change; frames outside it are inference only.
# The learning rate is boosted after a change in proportion to the jump.
_base_ = ['online_runner.py']
runner = dict(
    budget=20,
    budget_trigger='detector',
    domain_detector=dict(enabled=True, signal='entropy', window=10, threshold=0.1,
                         min_frames=10),
    adaptive_schedule=dict(lr_policy='adaptive', lr_gain=2.0, lr_max_scale=3.0,
                           decay_frames=20))
