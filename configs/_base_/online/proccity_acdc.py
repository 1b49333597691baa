# The ProcCity ACDC-like protocol of the benchmark: fog 75 m, night 5, rain 200 mm/h,
# snow 5 repeated for 3 rounds, as CoTTA (CVPR 2022, Sec. 4.3) streams Cityscapes ->
# ACDC's four conditions for 10 rounds; 100 frames per visit from the `test` split
# (1200 frames), held-out `val` sets (>= 100 images each) evaluated before the stream
# and the streamed condition's set after each visit.
_base_ = ['online_runner.py', '../datasets/proccity_acdc.py']
rounds = 3  # repetitions of the four conditions (CoTTA: 10)
runner = dict(domain_order=['fog75m', 'night5', '200mm', 'snow5'] * rounds,
              frames_per_domain=100)
online_evaluation = dict(eval_domains='current', max_images=None)
