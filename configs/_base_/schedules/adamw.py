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
        skip_frozen=False))
optimizer_config = dict()
