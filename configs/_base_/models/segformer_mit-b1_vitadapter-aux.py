# ViT-Adapter configuration plus an auxiliary classifier on the stem features
# (backbone output 4): an FCN head whose loss trains the spatial prior directly.
_base_ = ['./segformer_mit-b1_vitadapter.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=64,  # = backbone.spatial_prior_cfg.embed_dims
        in_index=4,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)))
