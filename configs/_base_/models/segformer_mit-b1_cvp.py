# SegFormer MiT-B1 with convolutional visual prompts (Tsai et al., NeurIPS
# 2023): a depth-wise kernel on the input image and a small convolutional
# generator whose maps are added to each stage's tokens (zero at step 0).
_base_ = ['./segformer_mit-b1.py']
model = dict(
    backbone=dict(
        type='MixTransformerAdapter',
        adapt_blocks=[],
        injector_stages=[],
        out_stem=False,
        vida_stages=[],
        prompt_cfg=dict(
            type='cvp',
            stages=[0, 1, 2, 3],
            kernel_size=3,
            hidden_dims=32),
        freeze_backbone=True,
        trainable_keys=['prompt']))
