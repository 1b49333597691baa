# ACDC-like protocol on ProcCity's first two renderers: fog 75 m and rain 200 mm/h
# repeated for 3 rounds, 100 frames per visit from the `test` split, held-out `val`
# sets evaluated before the stream and the streamed condition's set after each visit.
_base_ = ['online_runner.py', '../datasets/proccity_rainfog.py']
rounds = 3  # repetitions of the two conditions
runner = dict(domain_order=['fog75m', '200mm'] * rounds, frames_per_domain=100)
online_evaluation = dict(eval_domains='current', max_images=None)
