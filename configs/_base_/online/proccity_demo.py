# The CPU-sized ProcCity storm stream of `make demo`: 30 frames per visit (330
# frames at 128x256), initial evaluation on every domain then only on the domain
# just streamed, a checkpoint every visit-and-a-bit.
_base_ = ['online_runner.py']
runner = dict(frames_per_domain=30)
online_evaluation = dict(eval_domains='current')
checkpoint_config = dict(interval=110)
