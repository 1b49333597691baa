# Online AdaBN (Li et al., Pattern Recognition 2018; Schneider et al., NeurIPS 2020):
# the source model, whose BatchNorm running statistics are re-estimated on every
# target frame (one gradient-free train-mode forward, the layers' momentum); no loss,
# no weight changes. Needs the runner to adapt (runner.adapt=True).
_base_ = ['source_only.py']
uda = dict(norm_stats=dict(target_pass=True))
