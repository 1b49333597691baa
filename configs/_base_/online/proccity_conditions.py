# The ProcCity conditions outside ACDC's four: wet road, lens drops and ego-motion
# blur at severity 5, and the target city in clear weather, 100 frames per visit from the `test` split, one round; held-out
# `val` sets (>= 100 images each) evaluated before the stream and the streamed
# condition's set after each visit.
_base_ = ['online_runner.py', '../datasets/proccity_conditions.py']
runner = dict(domain_order=['wet5', 'lensdrops5', 'motionblur5', 'target_city'],
              frames_per_domain=100)
online_evaluation = dict(eval_domains='current', max_images=None)
