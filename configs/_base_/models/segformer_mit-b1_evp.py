# SegFormer MiT-B1 with explicit visual prompting (Liu et al., CVPR 2023): per
# block, a prompt from the image's high-frequency components and a tuned
# projection of the patch embedding, added to the tokens (zero at step 0).
_base_ = ['./segformer_mit-b1.py']
model = dict(
    backbone=dict(
        type='MixTransformerAdapter',
        adapt_blocks=[],
        injector_stages=[],
        out_stem=False,
        vida_stages=[],
        prompt_cfg=dict(
            type='evp',
            stages=[0, 1, 2, 3],
            scale_factor=4,  # prompt width = stage width / 4
            mask_ratio=0.25),  # low-frequency square removed from the spectrum
        freeze_backbone=True,
        trainable_keys=['prompt']))
