# DACS+TENT: DACS plus the mean prediction entropy of the student on the target
# image, as an extra loss term. Unlike TENT (tent.py) every student parameter
# trains and the prediction is DACS's; the entropy pass runs the student in train
# mode, so its BatchNorm layers normalise with the target frame's statistics, as
# in TENT's adaptation forward.
_base_ = ['dacs.py']
uda = dict(entropy_lambda=1.0)
