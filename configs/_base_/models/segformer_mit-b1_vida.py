# SegFormer MiT-B1 with ViDA (Liu et al., ICLR 2024): low-rank (rank 1) and
# high-rank (128) branches on the attention linears q, kv, proj of every block.
# Their per-sample scales are set by the adaptation method from the teacher's
# uncertainty (mmseg_ext.models.backbones.vida.set_vida_scales / vida_scales);
# without them both scales are low_scale / high_scale.
_base_ = ['./segformer_mit-b1.py']
model = dict(
    backbone=dict(
        type='MixTransformerAdapter',
        adapt_blocks=[],
        injector_stages=[],
        out_stem=False,
        vida_stages=[0, 1, 2, 3],
        vida_cfg=dict(
            targets=['attn.q', 'attn.kv', 'attn.proj'],  # linears inside a block
            low_rank=1,
            high_rank=128,
            low_scale=1.0,
            high_scale=1.0),
        prompt_cfg=None,
        freeze_backbone=True,
        trainable_keys=['vida']))
