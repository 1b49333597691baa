# SegFormer MiT-B1: widths [64, 128, 320, 512], depths [2, 2, 2, 2], decoder embed dim 256.
_base_ = ['./segformer_mit-b0.py']
model = dict(
    backbone=dict(embed_dims=[64, 128, 320, 512], depths=[2, 2, 2, 2]),
    decode_head=dict(in_channels=[64, 128, 320, 512], channels=256))
