# The CPU-sized ProcCity protocol of `make demo`: the ACDC-like stream (fog 75 m, night
# 5, rain 200 mm/h, snow 5: _base_/datasets/proccity_acdc.py) for 3 rounds as in CoTTA,
# 20 frames per visit from the `test` split (240 frames at 128x256: each of its 60
# images once per condition), held-out `val` sets evaluated before the stream (all
# five) and after each visit (the condition just streamed), on their first 40 images.
# The full-size version is proccity_acdc.py (100 frames per visit, every val image).
_base_ = ['online_runner.py', '../datasets/proccity_acdc.py']
rounds = 3  # repetitions of the four conditions
runner = dict(domain_order=['fog75m', 'night5', '200mm', 'snow5'] * rounds,
              frames_per_domain=20)
online_evaluation = dict(eval_domains='current', max_images=40)
checkpoint_config = dict(interval=120)
