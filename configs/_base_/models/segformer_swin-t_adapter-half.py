# SegFormer head on a frozen Swin-T with AdaptFormer adapters in the blocks of
# the two late stages (in parallel to each FFN, zero at step 0).
_base_ = ['./segformer_swin-t.py']
model = dict(
    backbone=dict(
        type='SwinTransformerAdapter',
        adapt_blocks=[2, 3],
        adapter_cfg=dict(
            bottleneck_ratio=0.25,
            scale=0.1,
            learnable_scale=False,
            dropout=0.1,
            act_cfg=dict(type='ReLU')),
        freeze_backbone=True,
        trainable_keys=['adapter']))
