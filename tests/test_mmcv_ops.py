"""mmcv-full's compiled ops are present and MultiScaleDeformableAttention trains on CPU."""
import torch


def test_ops_come_from_the_compiled_extension():
    import mmcv
    import mmcv._ext as ext
    from mmcv.ops import MultiScaleDeformableAttention  # noqa: F401
    assert mmcv.__version__ == '1.7.2'
    assert ext.__file__.endswith('.so')
    assert hasattr(ext, 'ms_deform_attn_forward') or hasattr(ext, 'nms')


def test_multiscale_deformable_attention_forward_backward_cpu():
    from mmcv.ops import MultiScaleDeformableAttention
    torch.manual_seed(0)
    embed, levels, heads, points = 32, 2, 4, 4
    attn = MultiScaleDeformableAttention(embed_dims=embed, num_heads=heads, num_levels=levels,
                                         num_points=points, batch_first=True)
    shapes = torch.tensor([[8, 16], [4, 8]])
    starts = torch.cat([shapes.new_zeros(1), (shapes[:, 0] * shapes[:, 1]).cumsum(0)[:-1]])
    n_value = int((shapes[:, 0] * shapes[:, 1]).sum())
    bs, n_query = 2, 10
    query = torch.randn(bs, n_query, embed, requires_grad=True)
    value = torch.randn(bs, n_value, embed)
    ref = torch.rand(bs, n_query, levels, 2)
    out = attn(query, value=value, identity=torch.zeros_like(query), reference_points=ref,
               spatial_shapes=shapes, level_start_index=starts)
    assert out.shape == (bs, n_query, embed)
    out.pow(2).sum().backward()
    g_off = attn.sampling_offsets.weight.grad
    g_att = attn.attention_weights.weight.grad
    assert g_off is not None and g_off.abs().sum().item() > 0
    assert g_att is not None and g_att.abs().sum().item() > 0
