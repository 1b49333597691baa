# DACS whose student BatchNorm running statistics are estimated on the stream:
# each target frame (online AdaBN) and the mixed images, not the replayed source.
_base_ = ['dacs.py']
uda = dict(norm_stats=dict(target_pass=True, source_pass=False))
