# AdamW as SegFormer/DAFormer train it: head lr x10, no weight decay on norms and
# positional blocks. ParamWiseOptimizerConstructor puts every parameter in exactly
# one group (shared/adapter parameters never appear twice).
optimizer = dict(
    type='AdamW',
    lr=6e-05,
    betas=(0.9, 0.999),
    weight_decay=0.01,
    constructor='ParamWiseOptimizerConstructor',
    paramwise_cfg=dict(
        custom_keys=dict(
            head=dict(lr_mult=10.0),
            pos_block=dict(decay_mult=0.0),
            norm=dict(decay_mult=0.0)),
        norm_decay_mult=None,
        bias_decay_mult=None,
        # True: only the parameters left trainable (mmseg_ext/models/utils/
        # trainable.py) enter the optimizer (adamw_peft.py); False: all of them once,
        # those without a gradient are skipped at each step
        skip_frozen=False))
optimizer_config = dict()
