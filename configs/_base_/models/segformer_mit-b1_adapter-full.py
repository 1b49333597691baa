# SegFormer MiT-B1 with AdaptFormer adapters in every stage ("full").
_base_ = ['./segformer_mit-b1_adapter-half.py']
model = dict(backbone=dict(adapt_blocks=[0, 1, 2, 3]))
