"""SegformerSkipHead: SegformerHead's logits at init, the skip acts once trained,
stem switched off, bad indices."""
import pytest
import torch
from mmseg.models import build_head

HEAD = dict(in_channels=[8, 16, 24, 32], in_index=[0, 1, 2, 3], channels=16,
            num_classes=5, norm_cfg=dict(type='BN'), align_corners=False)


def inputs(n=2):
    stages = [torch.randn(n, c, 16 // 2 ** i, 32 // 2 ** i)
              for i, c in enumerate(HEAD['in_channels'])]
    return stages + [torch.randn(n, 12, 16, 32)]


def test_equals_segformer_head_at_init_then_uses_the_stem():
    torch.manual_seed(0)
    plain = build_head(dict(type='SegformerHead', **HEAD))
    plain.init_weights()
    skip = build_head(dict(type='SegformerSkipHead', skip_index=4, skip_channels=12, **HEAD))
    skip.init_weights()
    missing, unexpected = skip.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and all(k.startswith('skip_') for k in missing)
    plain.eval()
    skip.eval()
    x = inputs()
    with torch.no_grad():
        expected = plain(x[:4])
        assert skip(x).shape == expected.shape == (2, 5, 16, 32)
        assert torch.allclose(skip(x), expected, atol=1e-6)
        assert torch.allclose(skip(x[:4] + [None]), expected, atol=1e-6)
        skip.skip_proj.weight.normal_()
        assert (skip(x) - expected).abs().max().item() > 1e-3


def test_bad_inputs():
    head = build_head(dict(type='SegformerSkipHead', skip_index=4, skip_channels=12, **HEAD))
    with pytest.raises(ValueError, match='got 4 backbone outputs, no stem at skip_index 4'):
        head(inputs()[:4])
    with pytest.raises(ValueError, match=r'skip_index 3 is also in in_index \[0, 1, 2, 3\]'):
        build_head(dict(type='SegformerSkipHead', skip_index=3, skip_channels=12, **HEAD))
