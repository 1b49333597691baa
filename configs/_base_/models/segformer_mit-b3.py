# SegFormer MiT-B3: widths [64, 128, 320, 512], depths [3, 4, 18, 3], decoder embed dim 768.
_base_ = ['./segformer_mit-b0.py']
model = dict(
    backbone=dict(embed_dims=[64, 128, 320, 512], depths=[3, 4, 18, 3]),
    decode_head=dict(in_channels=[64, 128, 320, 512], channels=768))
