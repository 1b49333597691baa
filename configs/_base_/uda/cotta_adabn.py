# CoTTA as the project ran it before issue 14: the student adapts in train mode
# (drop-path/dropout active, BatchNorm running statistics estimated on the
# stream) and the teacher copies those statistics every step, so the deployed
# prediction normalises with online AdaBN statistics.
_base_ = ['cotta.py']
uda = dict(norm_stats=dict(student='batch', teacher='student_running'))
