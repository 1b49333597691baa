"""OriginalSegFormerHead (NVlabs) and ModularSegFormerHead (HAMLET's early exits)."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.models import build_head

CH = [8, 16, 24, 32]
HEAD = dict(type='OriginalSegFormerHead', in_channels=CH, in_index=[0, 1, 2, 3],
            channels=12, num_classes=5, dropout_ratio=0.1,
            norm_cfg=dict(type='BN', requires_grad=True), align_corners=False)


def feats(batch=2, size=16):
    torch.manual_seed(1)
    return [torch.randn(batch, c, size // 2 ** i, size // 2 ** i) for i, c in enumerate(CH)]


def nvlabs_reference(head, x, num, fuse, pred):
    """SegFormer's decoder written out: linear per scale, deep-to-shallow concat."""
    size = x[0].shape[2:]
    cs = []
    for i in reversed(range(num)):
        lin = head.linear_c[i].proj
        c = torch.einsum('nchw,oc->nohw', x[i], lin.weight) + lin.bias[:, None, None]
        cs.append(F.interpolate(c, size=size, mode='bilinear', align_corners=False))
    return pred(fuse(torch.cat(cs, 1)))


def test_original_head_matches_nvlabs_formula():
    head = build_head(HEAD).eval()
    for m in head.modules():  # non-trivial norm statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    x = feats()
    with torch.no_grad():
        out = head(x)
        ref = nvlabs_reference(head, x, 4, head.linear_fuse, head.conv_seg)
    assert out.shape == (2, 5, 16, 16)
    assert torch.allclose(out, ref, atol=1e-5)
    assert head.linear_fuse.conv.weight.shape == (12, 48, 1, 1)


def test_original_head_rejects_wrong_channels():
    head = build_head(HEAD)
    x = feats()
    x[2] = torch.randn(2, 20, 4, 4)
    with pytest.raises(ValueError, match=r'input 2 has 20 channels, expected '
                                         r'in_channels\[2\]=24'):
        head(x)


def test_modular_head_exits():
    head = build_head(dict(HEAD, type='ModularSegFormerHead', exit_modules=(1, 2))).eval()
    x = feats()
    with torch.no_grad():
        full = head(x)
        assert torch.equal(full, head(x, module=4))
        m1 = head(x[:1], module=1)
        ref1 = nvlabs_reference(head, x, 1, head.exit_fuses['1'], head.exit_preds['1'])
        m2 = head(x[:2], module=2)
    assert m1.shape == m2.shape == (2, 5, 16, 16)
    assert torch.allclose(m1, ref1, atol=1e-5)
    assert head.exit_fuses['2'].conv.weight.shape == (12, 24, 1, 1)
    # the full path equals an OriginalSegFormerHead holding the same weights
    orig = build_head(HEAD).eval()
    orig.load_state_dict(head.state_dict(), strict=False)
    with torch.no_grad():
        assert torch.equal(orig(x), full)


def test_modular_head_bad_module():
    head = build_head(dict(HEAD, type='ModularSegFormerHead'))
    with pytest.raises(ValueError, match=r'no decoder for module 3; exit_modules are '
                                         r'\(1,\)'):
        head(feats(), module=3)
    with pytest.raises(ValueError, match=r'exit_modules \(4,\) must be modules in 1..3'):
        build_head(dict(HEAD, type='ModularSegFormerHead', exit_modules=(4,)))
