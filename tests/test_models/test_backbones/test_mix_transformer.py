"""MixTransformer: parity with mmseg 0.30's MixVisionTransformer, stage-wise
execution, freezing, hooks, configs, bad input."""
import os.path as osp

import pytest
import torch
from mmcv import Config
from mmseg.models import build_backbone, build_segmentor

from mmseg_ext.models.backbones import MixTransformer
from mmseg_ext.models.utils import convert_state_dict, encoder_to_mmseg, load_converted

TINY = dict(type='MixTransformer', embed_dims=[8, 16, 24, 32], num_heads=[1, 2, 3, 4],
            depths=[1, 1, 1, 1])


@pytest.mark.parametrize('base,depths', [(32, [2, 2, 2, 2]), (64, [2, 2, 2, 2])],
                         ids=['b0', 'b1'])
def test_parity_with_mmseg(base, depths):
    torch.manual_seed(0)
    heads = [1, 2, 5, 8]
    ref = build_backbone(dict(type='MixVisionTransformer', embed_dims=base,
                              num_heads=heads, num_layers=depths))
    ref.init_weights()
    ref.eval()
    # mmseg's port uses eps 1e-6 in every LayerNorm; NVlabs (our default) 1e-5 in two.
    mine = build_backbone(dict(type='MixTransformer', embed_dims=[base * h for h in heads],
                               num_heads=heads, depths=depths,
                               patch_norm_cfg=dict(type='LN', eps=1e-6))).eval()
    sd, layout = convert_state_dict(ref.state_dict(), parts=('encoder',))
    assert layout == 'mmseg'
    missing, unexpected = load_converted(mine, sd, prefix='backbone.', strict=True)
    assert missing == [] and unexpected == []
    # and back: the round trip gives mmseg's exact tensors
    back = encoder_to_mmseg(mine.state_dict())
    assert set(back) == set(ref.state_dict())
    assert all(torch.equal(back[k], v) for k, v in ref.state_dict().items())

    x = torch.randn(2, 3, 64, 128)
    with torch.no_grad():
        expected, got = ref(x), mine(x)
    assert len(got) == 4
    for i, (e, g) in enumerate(zip(expected, got)):
        assert g.shape == e.shape == (2, base * heads[i], 64 // 2 ** (i + 2),
                                      128 // 2 ** (i + 2))
        assert (e - g).abs().max().item() < 1e-4


def test_stagewise_execution_matches_full_forward():
    torch.manual_seed(0)
    model = build_backbone(TINY).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        full = model(x)
        two = model(x, num_modules=2)
        tokens, out = model.forward_stage(0, x)
    assert len(two) == 2
    assert torch.equal(two[1], full[1])
    assert tokens.shape == (1, 16 * 16, 8) and out.shape == (1, 8, 16, 16)
    assert torch.equal(out, full[0])
    assert [len(b) for b in model.blocks] == [1, 1, 1, 1]
    assert len(model.patch_embeds) == len(model.norms) == 4


def test_train_from_module_cuts_the_graph():
    model = build_backbone(TINY)
    outs = model(torch.randn(1, 3, 64, 64), train_from_module=3)
    assert [o.requires_grad for o in outs] == [False, False, True, True]
    sum((o ** 2).sum() for o in outs[2:]).backward()
    assert model.patch_embeds[1].proj.weight.grad is None
    assert model.patch_embeds[2].proj.weight.grad.abs().sum() > 0


def test_out_indices():
    model = build_backbone(dict(TINY, out_indices=(1, 3))).eval()
    outs = model(torch.randn(1, 3, 32, 32))
    assert [o.shape[1] for o in outs] == [16, 32]


def test_frozen_modules_config_and_runtime():
    model = build_backbone(dict(TINY, frozen_modules=[1, 2]))
    model.train()
    trainable = {n.split('.')[1] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {'2', '3'}
    assert not model.blocks[0].training and model.blocks[2].training
    model.freeze_or_not_modules([1], requires_grad=True)
    assert model.frozen_modules == (2,)
    assert all(p.requires_grad for p in model.blocks[0].parameters())
    assert model.blocks[0].training
    x = torch.randn(1, 3, 64, 64)  # stage 4 needs more than one token for q to matter
    sum((o ** 2).sum() for o in model(x)).backward()
    assert model.blocks[1][0].attn.q.weight.grad is None
    assert model.blocks[3][0].attn.q.weight.grad.abs().sum() > 0


def test_build_block_hook_is_used():
    class Tagged(MixTransformer):
        def build_block(self, stage_idx, block_idx, **block_kwargs):
            block = super().build_block(stage_idx, block_idx, **block_kwargs)
            block.tag = (stage_idx, block_idx)
            return block

    cfg = {k: v for k, v in dict(TINY, depths=[1, 2, 1, 1]).items() if k != 'type'}
    model = Tagged(**cfg)
    assert [b.tag for stage in model.blocks for b in stage] == [
        (0, 0), (1, 0), (1, 1), (2, 0), (3, 0)]


def test_block_cls_and_replaced_linears():
    class Doubled(torch.nn.Linear):
        """A linear-like module put in place of fc1 (as ViDA does): called as a module."""

        def forward(self, x):
            return super().forward(x) * 2

    torch.manual_seed(0)
    model = build_backbone(TINY).eval()
    block = model.blocks[1][0]
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model(x)[1]
        fc1 = block.mlp.fc1
        block.mlp.fc1 = Doubled(fc1.in_features, fc1.out_features)
        block.mlp.fc1.load_state_dict(fc1.state_dict())
        block.mlp.fc1.weight.div_(2)
        block.mlp.fc1.bias.div_(2)
        after = model(x)[1]
    assert (after - before).abs().max().item() < 1e-5
    built = model.build_block(2, 0, block_cls=lambda **kw: kw, drop_path=0.3)
    assert (built['dim'], built['num_heads'], built['sr_ratio'], built['drop_path']) == (
        24, 3, 2, 0.3)


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    plain = build_backbone(dict(TINY, drop_path_rate=0.))
    ckpt = build_backbone(dict(TINY, drop_path_rate=0., with_cp=True))
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 64, 64)
    for model in (plain, ckpt):
        sum((o ** 2).sum() for o in model(x)).backward()
    for (name, a), b in zip(plain.named_parameters(), ckpt.parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-5), name


def test_drop_path_increases_linearly():
    model = build_backbone(dict(TINY, depths=[1, 1, 1, 2], drop_path_rate=0.1))
    rates = [getattr(b.drop_path, 'drop_prob', 0.) for s in model.blocks for b in s]
    assert rates == pytest.approx([0., 0.025, 0.05, 0.075, 0.1])


@pytest.mark.parametrize('size,backbone_m,head_channels', [
    ('b0', 3.319392, 256), ('b1', 13.151424, 256), ('b2', 24.196288, 768)])
def test_model_configs(repo_root, size, backbone_m, head_channels):
    cfg = Config.fromfile(
        osp.join(repo_root, f'configs/_base_/models/segformer_mit-{size}.py'))
    assert cfg.model.type == 'CustomEncoderDecoder'
    assert cfg.model.decode_head.type == 'SegformerHead'
    assert cfg.model.decode_head.channels == head_channels
    assert cfg.model.decode_head.in_channels == cfg.model.backbone.embed_dims
    backbone = build_backbone(cfg.model.backbone)
    assert sum(p.numel() for p in backbone.parameters()) / 1e6 == pytest.approx(backbone_m)
    if size == 'b0':
        model = build_segmentor(cfg.model).eval()
        with torch.no_grad():
            logits = model.encode_decode(torch.randn(1, 3, 64, 64), [{}])
        assert logits.shape == (1, 19, 64, 64)


@pytest.mark.parametrize('kwargs,match', [
    (dict(depths=[1, 1, 1]), 'depths has 3 entries, expected one per stage'),
    (dict(num_heads=[1, 2, 3, 5]), 'embed dim 32 is not divisible by num_heads 5'),
    (dict(out_indices=(4,)), r'out_indices \(4,\) must be stages in 0..3'),
    (dict(frozen_modules=[0]), r'frozen_modules \(0,\) must be module numbers in 1..4'),
    (dict(pretrained=3), 'pretrained must be a path or None'),
    (dict(pretrained='a.pth', init_cfg=dict(type='Pretrained', checkpoint='a.pth')),
     'set pretrained or init_cfg, not both'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        build_backbone(dict(TINY, **kwargs))


def test_bad_num_modules():
    model = build_backbone(TINY)
    with pytest.raises(ValueError, match='num_modules must be in 1..4, got 5'):
        model(torch.randn(1, 3, 32, 32), num_modules=5)


def test_pretrained_nvlabs_checkpoint(tmp_path):
    torch.manual_seed(0)
    src = build_backbone(TINY)
    sd = {}
    for k, v in src.state_dict().items():  # write it in NVlabs' published key layout
        k = k.replace('mlp.dwconv.', 'mlp.dwconv.dwconv.')
        for name, nv in (('patch_embeds', 'patch_embed'), ('blocks', 'block'),
                         ('norms', 'norm')):
            if k.startswith(name + '.'):
                i, rest = k[len(name) + 1:].split('.', 1)
                k = f'{nv}{int(i) + 1}.{rest}'
        sd[k] = v
    sd['head.weight'] = torch.zeros(1000, 32)  # the ImageNet classifier
    path = str(tmp_path / 'mit_tiny.pth')
    torch.save(sd, path)
    for how in (dict(pretrained=path), dict(init_cfg=dict(type='Pretrained',
                                                         checkpoint=path))):
        model = build_backbone(dict(TINY, **how))
        model.init_weights()
        assert all(torch.equal(v, model.state_dict()[k])
                   for k, v in src.state_dict().items())
