# The full ProcCity increasing storm of the benchmark (bench/proccity_benchmark.py):
# clear, 25, 50, 75, 100, 200, 100, 75, 50, 25 mm/h, clear (OnDA / HAMLET), 100
# frames per visit from the `test` split (1100 frames at 128x256), every domain's
# held-out `val` set (>= 100 images) evaluated before the stream, then the set of
# the domain just streamed after each visit.
_base_ = ['online_runner.py', '../datasets/proccity_storm.py']
runner = dict(frames_per_domain=100)
online_evaluation = dict(eval_domains='current', max_images=None)
