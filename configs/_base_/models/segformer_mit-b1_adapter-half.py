# SegFormer MiT-B1 with AdaptFormer adapters (Chen et al., NeurIPS 2022) in the
# blocks of the two late stages ("half"), in parallel to each Mix-FFN. The
# adapters start at zero: the model is the pretrained SegFormer at step 0.
# freeze_backbone=True trains only the adapters in the backbone (the decode head
# stays trainable); trainable_keys names what stays trainable inside it.
_base_ = ['./segformer_mit-b1.py']
model = dict(
    backbone=dict(
        type='MixTransformerAdapter',
        adapt_blocks=[2, 3],  # 0-based stages; [0, 1, 2, 3] = "full"
        adapter_cfg=dict(
            bottleneck_ratio=0.25,  # bottleneck = stage width / 4
            scale=0.1,
            learnable_scale=False,
            dropout=0.1,
            act_cfg=dict(type='ReLU')),
        injector_stages=[],
        out_stem=False,
        vida_stages=[],
        prompt_cfg=None,
        freeze_backbone=True,
        trainable_keys=['adapter']))
