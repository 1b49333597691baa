# TENT as the project ran it before issue 14: predictions normalise with the
# BatchNorm running statistics, which every train-mode step updates on the
# stream (TENT plus online AdaBN), instead of each batch's own statistics.
_base_ = ['tent.py']
uda = dict(norm_stats=dict(predict='running'))
