# CoTTA's protocol (qinenergy/cotta, Cityscapes -> ACDC, single_gpu_cotta and
# single_gpu_tent): Adam, lr 6e-5 / 8 = 7.5e-6 ("batch size 1 now, was 8 during
# Cityscapes training"), betas (0.9, 0.999), no weight decay, one group (no x10
# head lr), constant lr. The optimizer holds every parameter; those without a
# gradient (frozen, teachers) are skipped by Adam.
optimizer = dict(
    type='Adam',
    lr=7.5e-06,
    betas=(0.9, 0.999),
    weight_decay=0.0,
    constructor='ParamWiseOptimizerConstructor',
    paramwise_cfg=dict(skip_frozen=False))
optimizer_config = dict()
