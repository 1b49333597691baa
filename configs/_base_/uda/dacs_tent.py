# DACS+TENT: DACS plus the mean prediction entropy of the student on the target
# image, as an extra loss term.
_base_ = ['dacs.py']
uda = dict(entropy_lambda=1.0)
