# SegFormer MiT-B1 with the ViT-Adapter (Chen et al., ICLR 2023) spatial prior
# module and injectors on mmcv's MultiScaleDeformableAttention. Each injector
# adds the attended stem features to a stage's tokens with a zero-initialised
# gain; the stem's stride-4 map also reaches the decoder through a skip
# connection that starts at zero (SegformerSkipHead). At step 0 the logits are
# the pretrained SegFormer's.
_base_ = ['./segformer_mit-b1.py']
model = dict(
    backbone=dict(
        type='MixTransformerAdapter',
        adapt_blocks=[],
        injector_stages=[0, 1, 2, 3],
        spatial_prior_cfg=dict(
            inplanes=64,
            embed_dims=64,
            norm_cfg=dict(type='BN')),  # SyncBN on multi-GPU runs
        injector_cfg=dict(
            levels=[1, 2, 3],  # stem levels attended to: strides 8, 16, 32
            num_points=4,
            init_gain=0.0),
        out_stem=True,  # stem map appended as backbone output 4
        vida_stages=[],
        prompt_cfg=None,
        freeze_backbone=True,
        trainable_keys=['spatial_prior', 'injectors']),
    decode_head=dict(
        type='SegformerSkipHead',
        skip_index=4,
        skip_channels=64))  # = spatial_prior_cfg.embed_dims
