# SegFormer MiT-B0 (Xie et al., NeurIPS 2021): the project's MixTransformer encoder
# and mmseg's SegformerHead (all-MLP decoder, decoder embed dim 256 for B0/B1).
# Larger sizes inherit this file and override widths, depths and the decoder.
# BN, not SyncBN: SyncBN needs an initialised process group and fails on a
# single CPU process; multi-GPU runs set decode_head.norm_cfg.type='SyncBN'.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='CustomEncoderDecoder',
    pretrained=None,
    # A SegFormer checkpoint (NVlabs / mmseg / HAMLET / project layout) to start
    # from, and which parts of it: ['encoder'], ['decoder'] or both.
    init_from=None,
    init_parts=['encoder', 'decoder'],
    init_layout='auto',
    backbone=dict(
        type='MixTransformer',
        in_channels=3,
        embed_dims=[32, 64, 160, 256],
        num_heads=[1, 2, 5, 8],
        depths=[2, 2, 2, 2],
        mlp_ratios=[4, 4, 4, 4],
        sr_ratios=[8, 4, 2, 1],
        patch_sizes=[7, 3, 3, 3],
        strides=[4, 2, 2, 2],
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        patch_norm_cfg=dict(type='LN', eps=1e-5),  # NVlabs: torch's default eps
        out_indices=(0, 1, 2, 3),
        # e.g. [1, 2] freezes stages 1-2 (their parameters do not train, they stay
        # in eval mode): the 'stages' mode of mmseg_ext/models/utils/trainable.py
        frozen_modules=[],
        with_cp=False,
        pretrained=None,  # encoder checkpoint in NVlabs/mmseg/HAMLET/project layout
    ),
    decode_head=dict(
        type='SegformerHead',
        in_channels=[32, 64, 160, 256],
        in_index=[0, 1, 2, 3],
        channels=256,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
