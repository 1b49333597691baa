# DACS regularised by EWC towards the source model: the Fisher information is
# estimated once on 8 source batches and cached next to the source checkpoint.
# lambda is a starting point for a sweep (the penalty scale depends on the loss
# and the number of trainable parameters).
_base_ = ['dacs.py']
uda = dict(
    ewc_lambda=1.0,
    ewc_fisher_batches=8,
    ewc_fisher_file='pretrained/fisher_source.pth',
)
