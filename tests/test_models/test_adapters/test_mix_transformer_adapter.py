"""MixTransformerAdapter from each variant's config: logits of the plain SegFormer at
init, forward/backward with only the named parameters training, bad config."""
import pytest
import torch
from mmseg.models import build_backbone, build_segmentor

from mmseg_ext.models.backbones.vida import ViDALinear
from mmseg_ext.models.utils import make_reference_model, set_peft_enabled

# variant -> backbone trainable keys of its config
VARIANTS = {
    'adapter-half': ('adapter',),
    'adapter-full': ('adapter',),
    'frozen-late-adapter': ('adapter',),
    'vitadapter': ('spatial_prior', 'injectors'),
    'vitadapter-aux': ('spatial_prior', 'injectors'),
    'vida': ('vida',),
    'evp': ('prompt',),
    'cvp': ('prompt',),
}
TINY = dict(type='MixTransformer', embed_dims=[8, 16, 24, 32], num_heads=[1, 2, 3, 4],
            depths=[1, 1, 1, 1])


def batch(n=2, h=64, w=128):
    metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                  flip=False)] * n
    gt = torch.randint(0, 19, (n, 1, h, w))
    return torch.randn(n, 3, h, w), metas, gt


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_variant_equals_plain_segformer_at_init(tiny_cfg, variant):
    torch.manual_seed(0)
    plain = build_segmentor(tiny_cfg())
    plain.init_weights()
    model = build_segmentor(tiny_cfg(variant))
    model.init_weights()
    missing, unexpected = model.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == []
    new_keys = VARIANTS[variant] + ('skip_', 'auxiliary_head')
    assert missing and all(any(k in m for k in new_keys) for m in missing), missing
    plain.eval()
    model.eval()
    img, metas, _ = batch()
    with torch.no_grad():
        expected = plain.encode_decode(img, metas)
        got = model.encode_decode(img, metas)
    assert got.shape == expected.shape == (2, 19, 64, 128)
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_variant_trains_only_its_modules(tiny_cfg, variant):
    torch.manual_seed(0)
    model = build_segmentor(tiny_cfg(variant))
    model.init_weights()
    keys = VARIANTS[variant]
    backbone_trainable = [n for n, p in model.backbone.named_parameters() if p.requires_grad]
    assert backbone_trainable and all(any(k in n for k in keys) for n in backbone_trainable)
    assert all(p.requires_grad for p in model.decode_head.parameters())
    model.train()
    img, metas, gt = batch()
    losses = model.forward_train(img, metas, gt)
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    for name, p in model.named_parameters():
        assert (p.grad is not None) == p.requires_grad, name
    # the learnable entry point of each zero-initialised module gets a nonzero gradient
    entry = {'adapter': 'adapter.up.weight', 'spatial_prior': 'injectors.0.gamma',
             'vida': 'vida.high_up.weight', 'prompt': 'weight'}[keys[0]]
    grads = [p.grad.abs().sum().item() for n, p in model.backbone.named_parameters()
             if p.requires_grad and n.endswith(entry)]
    assert grads and max(grads) > 0


def test_adapter_half_parameter_count(tiny_cfg):
    model = build_segmentor(tiny_cfg('adapter-half'))
    trainable = sum(p.numel() for p in model.backbone.parameters() if p.requires_grad)
    # stages 2, 3 (widths 40, 64, bottlenecks 10, 16), two blocks each:
    # 2 * C * b + b + C per adapter
    assert trainable == 2 * ((2 * 40 * 10 + 10 + 40) + (2 * 64 * 16 + 16 + 64)) == 5956


def test_frozen_backbone_computes_no_gradient_before_first_adapter(tiny_cfg):
    backbone = build_backbone(tiny_cfg('frozen-late-adapter').backbone)
    outs = backbone(torch.randn(1, 3, 64, 64))
    assert [o.requires_grad for o in outs] == [False, False, False, True]


def test_vitadapter_outputs_stem_and_pretrained_reference(tiny_cfg):
    torch.manual_seed(0)
    model = build_segmentor(tiny_cfg('vitadapter'))
    model.init_weights()
    outs = model.backbone(torch.randn(1, 3, 64, 128))
    assert [tuple(o.shape[1:]) for o in outs] == [(16, 16, 32), (32, 8, 16), (40, 4, 8),
                                                  (64, 2, 4), (16, 16, 32)]
    reference = make_reference_model(model, mode='pretrained')
    assert reference.backbone(torch.randn(1, 3, 64, 128))[4] is None
    img, metas, _ = batch(1)
    with torch.no_grad():
        assert reference.encode_decode(img, metas).shape == (1, 19, 64, 128)


def test_vida_wraps_the_attention_linears(tiny_cfg):
    backbone = build_backbone(tiny_cfg('vida').backbone)
    attn = backbone.blocks[2][1].attn
    assert all(isinstance(getattr(attn, n), ViDALinear) for n in ('q', 'kv', 'proj'))
    assert attn.kv.vida.high_up.weight.shape == (80, 8)


@pytest.mark.parametrize('kwargs,match', [
    (dict(adapt_blocks=[2, 4]), r'adapt_blocks \(2, 4\) must be stages in 0..3 '
                                r'\(the backbone has 4 stages\)'),
    (dict(injector_stages=[5]), r'injector_stages \(5,\) must be stages in 0..3'),
    (dict(vida_stages=[-1]), r'vida_stages \(-1,\) must be stages in 0..3'),
    (dict(injector_stages=[0], injector_cfg=dict(levels=[1, 4])),
     r'injector_cfg.levels \(1, 4\) must be spatial-prior levels in 0..3'),
    (dict(out_stem=True), 'out_stem=True needs the spatial prior module'),
    (dict(adapt_blocks=[3], freeze_backbone=True, trainable_keys=['adaptor']),
     "trainable key 'adaptor' matches no parameter of MixTransformerAdapter"),
    (dict(trainable_keys=['adapter']), 'only apply with freeze_backbone=True'),
    (dict(prompt_cfg=dict(type='vpt')), r"prompt_cfg.type must be one of \['cvp', "
                                         r"'evp'\], got 'vpt'"),
    (dict(prompt_cfg=dict(type='evp', stages=[4])), r'prompt_cfg.stages \(4,\)'),
    (dict(vida_stages=[1], vida_cfg=dict(targets=['attn.qkv'])),
     "vida_cfg.targets entry 'attn.qkv' is not an nn.Linear of a MiT block"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_backbone(dict(TINY, type='MixTransformerAdapter', **kwargs))


def test_forward_stage_without_context_is_refused():
    backbone = build_backbone(dict(TINY, type='MixTransformerAdapter', injector_stages=[1],
                                   spatial_prior_cfg=dict(inplanes=8, embed_dims=8)))
    with pytest.raises(ValueError, match='pass the context built from the image'):
        backbone.forward_stage(0, torch.randn(1, 3, 32, 32))


def test_pretrained_encoder_loads_under_the_adapters(tmp_path):
    torch.manual_seed(0)
    plain = build_backbone(TINY)
    plain.init_weights()
    torch.save(dict(state_dict=plain.state_dict()), tmp_path / 'mit.pth')
    model = build_backbone(dict(TINY, type='MixTransformerAdapter', adapt_blocks=[1, 3],
                                vida_stages=[2], injector_stages=[0],
                                spatial_prior_cfg=dict(inplanes=8, embed_dims=8),
                                pretrained=str(tmp_path / 'mit.pth')))
    model.init_weights()
    plain.eval()
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for got, expected in zip(model(x), plain(x)):
            assert torch.allclose(got, expected, atol=1e-5)
    assert torch.equal(model.blocks[1][0].adapter.up.weight,
                       torch.zeros_like(model.blocks[1][0].adapter.up.weight))


def test_gradient_checkpointing_gives_the_same_adapter_gradients():
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        backbone = build_backbone(dict(TINY, type='MixTransformerAdapter', adapt_blocks=[0],
                                       adapter_cfg=dict(dropout=0.), drop_path_rate=0.,
                                       with_cp=with_cp, freeze_backbone=True,
                                       trainable_keys=['adapter']))
        torch.nn.init.normal_(backbone.blocks[0][0].adapter.up.weight)
        x = torch.randn(1, 3, 32, 32, requires_grad=True)
        sum(o.sum() for o in backbone(x)).backward()
        grads.append(backbone.blocks[0][0].adapter.down.weight.grad)
    assert grads[0].abs().sum().item() > 0
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


def test_modular_training_with_adapters(tiny_cfg):
    """HAMLET's modular training (ModularEncoderDecoder) on an adapter backbone:
    from module 4 on, only the stage-4 adapters and the head get gradients."""
    torch.manual_seed(0)
    cfg = tiny_cfg('adapter-half')
    cfg.type = 'ModularEncoderDecoder'
    model = build_segmentor(cfg)
    model.init_weights()
    img, metas, gt = batch()
    losses = model.forward_train(img, metas, gt, train_from_module=4)
    losses['decode.loss_ce'].backward()
    with_grad = [n for n, p in model.backbone.named_parameters() if p.grad is not None]
    assert with_grad and all(n.startswith('blocks.3.') and '.adapter.' in n
                             for n in with_grad)
    assert len(with_grad) == 2 * 4  # two blocks, down/up weight and bias


@pytest.mark.parametrize('variant', ['vitadapter', 'evp', 'cvp'])
def test_modular_training_with_image_context(tiny_cfg, variant):
    """Injectors and prompts take the image's context (spatial prior, prompt
    features): the module cut runs through the backbone's own forward, so stages
    1-2 get no gradient and the run from module 3 trains what feeds stages 3-4."""
    torch.manual_seed(0)
    cfg = tiny_cfg(variant)
    cfg.type = 'ModularEncoderDecoder'
    if cfg.decode_head.type == 'SegformerSkipHead':  # decodes the stem output too:
        cfg.decode_head = tiny_cfg().decode_head  # use the plain head for the cut
        cfg.backbone.out_stem = False
        cfg.pop('auxiliary_head', None)
    model = build_segmentor(cfg)
    model.init_weights()
    img, metas, gt = batch()
    model.forward_train(img, metas, gt, train_from_module=3)['decode.loss_ce'].backward()
    with_grad = [n for n, p in model.backbone.named_parameters() if p.grad is not None]
    assert with_grad, 'the trainable parts of stages 3-4 learn'
    assert all(p.grad is None for n, p in model.backbone.named_parameters()
               if n.startswith(('blocks.0.', 'blocks.1.', 'patch_embeds.0.',
                                'patch_embeds.1.')))


@pytest.mark.parametrize('prompt', ['evp', 'cvp'])
def test_switching_peft_off_gives_the_plain_backbone(prompt):
    torch.manual_seed(0)
    plain = build_backbone(TINY).eval()
    model = build_backbone(dict(TINY, type='MixTransformerAdapter', adapt_blocks=[0, 3],
                                injector_stages=[1, 2], vida_stages=[2],
                                spatial_prior_cfg=dict(inplanes=8, embed_dims=8),
                                prompt_cfg=dict(type=prompt))).eval()
    model.load_state_dict(plain.state_dict(), strict=False)
    with torch.no_grad():  # an adapted model: every correction nonzero
        for name, p in model.named_parameters():
            if name not in plain.state_dict():
                p.normal_(std=0.1)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = plain(x)
        assert (model(x)[3] - expected[3]).abs().max().item() > 1e-3
        # adapters (2 blocks), injectors, spatial prior, ViDA (1 block x 3), prompt
        assert set_peft_enabled(model, False) == 2 + 2 + 1 + 3 + 1
        for got, ref in zip(model(x), expected):
            assert torch.allclose(got, ref, atol=1e-5)
