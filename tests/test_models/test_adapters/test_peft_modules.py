"""The parameter-efficient building blocks: zero correction at init, shapes,
deformable-attention inputs, per-sample ViDA scales, prompts, bad arguments."""
import pytest
import torch
import torch.nn as nn

from mmseg_ext.models.backbones.adaptformer import Adapter
from mmseg_ext.models.backbones.vida import (ViDALinear, set_vida_scales,
                                             vida_scales)
from mmseg_ext.models.backbones.visual_prompts import (ConvolutionalVisualPrompt,
                                                       ExplicitVisualPrompt,
                                                       high_frequency_components)
from mmseg_ext.models.backbones.vit_adapter_modules import (Injector,
                                                            SpatialPriorModule,
                                                            deform_inputs)

STAGES = dict(stage_dims=[8, 16, 24, 32], depths=[1, 2, 1, 1],
              patch_sizes=[7, 3, 3, 3], strides=[4, 2, 2, 2])


def test_adapter_zero_at_init_and_widths():
    torch.manual_seed(0)
    adapter = Adapter(64, bottleneck_ratio=0.25, scale=0.5, learnable_scale=True)
    x = torch.randn(2, 10, 64)
    assert adapter.bottleneck_dims == 16
    assert torch.equal(adapter(x), torch.zeros(2, 10, 64))
    assert isinstance(adapter.scale, nn.Parameter) and adapter.scale.item() == 0.5
    with torch.no_grad():
        adapter.up.weight.fill_(1.)
    adapter.eval()
    expected = 0.5 * adapter.act(adapter.down(x)).sum(-1, keepdim=True).expand(-1, -1, 64)
    assert torch.allclose(adapter(x), expected, atol=1e-5)
    fixed = Adapter(64)
    assert 'scale' not in dict(fixed.named_parameters())
    assert fixed.scale.item() == pytest.approx(0.1)
    with pytest.raises(ValueError, match=r'bottleneck_ratio must be in \(0, 1\], got 0'):
        Adapter(64, bottleneck_ratio=0)


def test_deform_inputs_reference_points_and_levels():
    ref, shapes, start = deform_inputs((2, 4), [(4, 8), (2, 4), (1, 2)], 'cpu')
    assert ref.shape == (1, 8, 3, 2)
    assert torch.allclose(ref[0, 0, 0], torch.tensor([0.125, 0.25]))
    assert torch.allclose(ref[0, 7, 2], torch.tensor([0.875, 0.75]))
    assert shapes.tolist() == [[4, 8], [2, 4], [1, 2]]
    assert start.tolist() == [0, 32, 40]


def test_spatial_prior_shapes():
    spm = SpatialPriorModule(inplanes=8, embed_dims=16)
    feats = spm(torch.randn(2, 3, 64, 128))
    assert [tuple(f.shape) for f in feats] == [(2, 16, 16, 32), (2, 16, 8, 16),
                                               (2, 16, 4, 8), (2, 16, 2, 4)]


def test_injector_identity_at_init_then_injects():
    torch.manual_seed(0)
    injector = Injector(32, 16, num_heads=2, num_levels=2, num_points=2)
    tokens = torch.randn(2, 4 * 8, 32, requires_grad=True)
    feats = [torch.randn(2, 16, 8, 16), torch.randn(2, 16, 4, 8)]
    out = injector(tokens, (4, 8), feats)
    assert torch.equal(out, tokens)
    out.sum().backward()
    assert injector.gamma.grad.abs().sum().item() > 0  # the gain learns first
    with torch.no_grad():
        injector.gamma.fill_(1.)
        assert (injector(tokens, (4, 8), feats) - tokens).abs().max().item() > 1e-3
    with pytest.raises(ValueError, match='expected 2 feature levels, got 1'):
        injector(tokens, (4, 8), feats[:1])
    with pytest.raises(ValueError, match='embed_dims 30 is not divisible by num_heads 4'):
        Injector(30, 16, num_heads=4)


def test_vida_linear_keeps_pretrained_weights_and_scales_per_sample():
    torch.manual_seed(0)
    linear = nn.Linear(8, 6)
    vida = ViDALinear.from_linear(linear, dict(low_rank=1, high_rank=16))
    assert vida.weight is linear.weight and vida.bias is linear.bias
    assert sorted(n for n, _ in vida.named_parameters()) == [
        'bias', 'vida.high_down.weight', 'vida.high_up.weight', 'vida.low_down.weight',
        'vida.low_up.weight', 'weight']
    x = torch.randn(2, 5, 8)
    assert torch.equal(vida(x), linear(x))
    with torch.no_grad():
        vida.vida.low_up.weight.normal_()
        vida.vida.high_up.weight.normal_()
    low = vida.vida.low_up(vida.vida.low_down(x))
    high = vida.vida.high_up(vida.vida.high_down(x))
    assert set_vida_scales(vida, torch.tensor([0., 1.]), torch.tensor([0., 2.])) == 1
    out = vida(x)
    assert torch.allclose(out[0], linear(x)[0], atol=1e-6)
    assert torch.allclose(out[1], linear(x)[1] + low[1] + 2 * high[1], atol=1e-5)
    set_vida_scales(vida)
    assert torch.allclose(vida(x), linear(x) + low + high, atol=1e-5)
    set_vida_scales(vida, torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match='3 per-sample scales for a batch of 2'):
        vida(x)
    with pytest.raises(ValueError, match='give both low and high scales'):
        set_vida_scales(vida, low=torch.ones(2))
    with pytest.raises(TypeError, match='ViDA adapts nn.Linear layers, got Conv2d'):
        ViDALinear.from_linear(nn.Conv2d(3, 3, 1))


def test_vida_scales_from_uncertainty():
    low, high = vida_scales(torch.tensor([0.2, 0.5, 0.0]), threshold=0.2)
    assert torch.allclose(low, torch.tensor([1.0, 0.7, 1.2]))
    assert torch.allclose(high, torch.tensor([1.0, 1.3, 0.8]))


def test_high_frequency_components():
    flat = torch.full((1, 3, 16, 16), 2.)
    assert high_frequency_components(flat).abs().max().item() < 1e-5
    noise = torch.randn(1, 3, 16, 16)
    hfc = high_frequency_components(noise, mask_ratio=0.)
    assert torch.allclose(hfc, noise.abs(), atol=1e-5)


@pytest.mark.parametrize('cls', [ExplicitVisualPrompt, ConvolutionalVisualPrompt])
def test_prompts_zero_at_init_and_fit_the_stage_grids(cls):
    torch.manual_seed(0)
    prompt = cls(**STAGES)
    img = torch.randn(2, 3, 64, 96)
    out_img, context = prompt.prepare(img)
    assert torch.equal(out_img, img)
    grids = [(16, 24), (8, 12), (4, 6), (2, 3)]
    for i, (h, w) in enumerate(grids):
        tokens = torch.randn(2, h * w, STAGES['stage_dims'][i])
        prompts = prompt.stage_prompts(i, tokens, (h, w), context)
        assert len(prompts) == STAGES['depths'][i]
        shaped = [p for p in prompts if p is not None]
        assert shaped and all(p.shape == tokens.shape for p in shaped)
        assert all(torch.equal(p, torch.zeros_like(p)) for p in shaped)


def test_prompt_stage_selection_and_bad_args():
    prompt = ConvolutionalVisualPrompt(stages=(3,), **STAGES)
    _, context = prompt.prepare(torch.randn(1, 3, 32, 32))
    assert prompt.stage_prompts(0, torch.randn(1, 64, 8), (8, 8), context) == [None]
    with pytest.raises(ValueError, match='kernel_size must be odd and >= 1, got 2'):
        ConvolutionalVisualPrompt(kernel_size=2, **STAGES)
    with pytest.raises(ValueError, match='scale_factor must be >= 1, got 0'):
        ExplicitVisualPrompt(scale_factor=0, **STAGES)
