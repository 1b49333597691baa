# Polynomial decay (power 1) after a linear warm-up of 1500 iterations (DAFormer).
lr_config = dict(
    policy='poly',
    warmup='linear',
    warmup_iters=1500,
    warmup_ratio=1e-6,
    power=1.0,
    min_lr=0.0,
    by_epoch=False)
