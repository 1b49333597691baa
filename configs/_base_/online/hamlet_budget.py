# The project's budgeted adaptation (a HAMLET-style design, not HAMLET's: see
# hamlet.py for the published one): the project's entropy detector (relative
# threshold on a sliding window, reacts within `window` frames and costs no extra
# forward) restarts a fixed budget of adapted frames after each detected change;
# frames outside it are inference only. The learning rate is boosted after a change
# in proportion to the relative jump and decays back linearly.
_base_ = ['online_runner.py']
runner = dict(controller=dict(
    budget=dict(frames=20, trigger='detector'),
    detector=dict(_delete_=True, enabled=True, type='relative', signal='entropy', window=10,
                  threshold=0.1, min_frames=10),
    schedule=dict(lr_policy='adaptive', lr_gain=2.0, lr_max_scale=3.0, decay_frames=20)))
