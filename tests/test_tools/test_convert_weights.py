"""Weight conversion: state dicts built in the published key layouts (NVlabs
ImageNet and Cityscapes, mmseg, HAMLET) load into the project's models."""
import os.path as osp
import sys

import pytest
import torch
import torch.nn.functional as F
from mmcv import ConfigDict
from mmseg.models import build_segmentor

from mmseg_ext.core import load_checkpoint
from mmseg_ext.models.utils import convert_state_dict, detect_layout, load_converted

DIMS = [8, 16, 24, 32]
BN = dict(type='BN', requires_grad=True)


def backbone(**kw):
    return dict(type='MixTransformer', embed_dims=DIMS, num_heads=[1, 2, 3, 4],
                depths=[1, 1, 1, 1], **kw)


def segmentor(head_type='OriginalSegFormerHead', channels=12,
              seg_type='CustomEncoderDecoder', bb=None, **head_kw):
    head = dict(type=head_type, in_channels=DIMS, in_index=[0, 1, 2, 3], channels=channels,
                num_classes=5, norm_cfg=BN, align_corners=False, **head_kw)
    model = build_segmentor(ConfigDict(type=seg_type, backbone=bb or backbone(),
                                       decode_head=head, test_cfg=dict(mode='whole')))
    torch.manual_seed(3)
    for p in model.state_dict().values():  # distinct values everywhere, BN stats too
        if p.dtype.is_floating_point:
            p.copy_(torch.rand_like(p) + 0.5 if p.ndim == 1 else torch.randn_like(p) * .2)
    return model.eval()


def nvlabs_encoder_key(k):
    """Project encoder key -> NVlabs key (patch_embed1, block1.0, norm1, dwconv.dwconv)."""
    k = k.replace('mlp.dwconv.', 'mlp.dwconv.dwconv.')
    for ours, theirs in (('patch_embeds', 'patch_embed'), ('blocks', 'block'),
                         ('norms', 'norm')):
        if k.startswith(ours + '.'):
            i, rest = k[len(ours) + 1:].split('.', 1)
            return f'{theirs}{int(i) + 1}.{rest}'
    return k


def as_nvlabs_city(model):
    sd = {}
    for k, v in model.state_dict().items():
        if k.startswith('backbone.'):
            sd['backbone.' + nvlabs_encoder_key(k[9:])] = v
        elif k.startswith('decode_head.linear_c.'):
            i, rest = k[len('decode_head.linear_c.'):].split('.', 1)
            sd[f'decode_head.linear_c{int(i) + 1}.{rest}'] = v
        else:
            sd[k.replace('decode_head.conv_seg.', 'decode_head.linear_pred.')] = v
    sd['decode_head.conv_seg.weight'] = torch.zeros(5, 12, 1, 1)  # unused in NVlabs
    sd['decode_head.conv_seg.bias'] = torch.zeros(5)
    return sd


def logits(model, seed=0):
    torch.manual_seed(seed)
    with torch.no_grad():
        return model.encode_decode(torch.randn(1, 3, 64, 64), [{}])


def test_nvlabs_imagenet_encoder_only():
    src = segmentor()
    sd = {nvlabs_encoder_key(k[9:]): v for k, v in src.state_dict().items()
          if k.startswith('backbone.')}
    sd['head.weight'], sd['head.bias'] = torch.zeros(1000, 32), torch.zeros(1000)
    assert detect_layout(sd) == 'nvlabs'
    out, layout = convert_state_dict(sd)
    assert layout == 'nvlabs' and all(k.startswith('backbone.') for k in out)
    dst = segmentor()
    missing, unexpected = load_converted(dst, out)
    assert unexpected == [] and all(k.startswith('decode_head.') for k in missing)
    assert all(torch.equal(v, dst.state_dict()[k]) for k, v in out.items())


def test_nvlabs_cityscapes_full():
    src = segmentor()
    out, layout = convert_state_dict(dict(state_dict=as_nvlabs_city(src)))
    assert layout == 'nvlabs'
    dst = segmentor()
    assert load_converted(dst, out, strict=True) == ([], [])
    assert torch.equal(logits(dst), logits(src))


# Key names of NVlabs' released Cityscapes SegFormer (segformer.b0.1024x1024.city.160k
# .pth, NVlabs/SegFormer mmseg-style: mix_transformer.py, segformer_head.py) and the
# project keys they become.
NVLABS_CITY_KEYS = {
    'backbone.patch_embed1.proj.weight': 'backbone.patch_embeds.0.proj.weight',
    'backbone.patch_embed4.norm.bias': 'backbone.patch_embeds.3.norm.bias',
    'backbone.block1.0.norm1.weight': 'backbone.blocks.0.0.norm1.weight',
    'backbone.block1.0.attn.q.weight': 'backbone.blocks.0.0.attn.q.weight',
    'backbone.block1.1.attn.kv.bias': 'backbone.blocks.0.1.attn.kv.bias',
    'backbone.block2.0.attn.sr.weight': 'backbone.blocks.1.0.attn.sr.weight',
    'backbone.block2.0.attn.norm.weight': 'backbone.blocks.1.0.attn.norm.weight',
    'backbone.block3.1.mlp.dwconv.dwconv.weight': 'backbone.blocks.2.1.mlp.dwconv.weight',
    'backbone.block4.0.mlp.fc2.bias': 'backbone.blocks.3.0.mlp.fc2.bias',
    'backbone.norm4.weight': 'backbone.norms.3.weight',
    'decode_head.linear_c4.proj.weight': 'decode_head.linear_c.3.proj.weight',
    'decode_head.linear_c1.proj.bias': 'decode_head.linear_c.0.proj.bias',
    'decode_head.linear_fuse.conv.weight': 'decode_head.linear_fuse.conv.weight',
    'decode_head.linear_fuse.bn.running_var': 'decode_head.linear_fuse.bn.running_var',
    'decode_head.linear_pred.weight': 'decode_head.conv_seg.weight',
    'decode_head.linear_pred.bias': 'decode_head.conv_seg.bias',
}


def test_nvlabs_cityscapes_release_key_names(tmp_path):
    from mmseg_ext.models.utils import convert_checkpoint_file
    sd = {k: torch.full((2,), float(i)) for i, k in enumerate(NVLABS_CITY_KEYS)}
    sd['decode_head.conv_seg.weight'] = torch.zeros(2)  # built by mmseg's base head, unused
    src, dst = str(tmp_path / 'segformer.b0.city.pth'), str(tmp_path / 'out.pth')
    torch.save(dict(meta=dict(CLASSES=['road']), state_dict=sd), src)
    info = convert_checkpoint_file(src, dst)
    out = torch.load(dst)['state_dict']
    assert info['layout'] == 'nvlabs' and info['num_keys'] == len(NVLABS_CITY_KEYS)
    assert {k: float(v[0]) for k, v in out.items()} == {
        new: float(i) for i, new in enumerate(NVLABS_CITY_KEYS.values())}


def test_mmseg_layout_matches_mmseg_model():
    bb = dict(type='MixVisionTransformer', embed_dims=8, num_heads=[1, 2, 3, 4],
              num_layers=[1, 1, 1, 1])
    ref = segmentor('SegformerHead', bb=bb)
    out, layout = convert_state_dict(ref.state_dict())
    assert layout == 'mmseg'
    dst = segmentor('SegformerHead', bb=backbone(patch_norm_cfg=dict(type='LN', eps=1e-6)))
    assert load_converted(dst, out, strict=True) == ([], [])
    assert (logits(dst) - logits(ref)).abs().max().item() < 1e-4


def test_hamlet_uda_checkpoint():
    src = segmentor('ModularSegFormerHead', seg_type='ModularEncoderDecoder')
    sd = {}
    for k, v in src.state_dict().items():
        if k.startswith('backbone.'):
            k = 'backbone.' + nvlabs_encoder_key(k[9:])
        elif k == 'decode_head.linear_fuse.conv.weight':  # HAMLET: shallow -> deep
            v = torch.cat(list(reversed(v.chunk(4, dim=1))), dim=1)
        k = (k.replace('exit_fuses.1.', 'linear_fuse_m1.')
             .replace('exit_preds.1.', 'linear_pred_m1.')
             .replace('decode_head.conv_seg.', 'decode_head.linear_pred.'))
        sd['model.' + k] = v
        sd['ema_model.' + k] = v + 1
    sd['imnet_model.backbone.patch_embed1.proj.weight'] = torch.zeros(8, 3, 7, 7)
    out, layout = convert_state_dict(dict(state_dict=sd, meta={}))
    assert layout == 'hamlet'
    dst = segmentor('ModularSegFormerHead', seg_type='ModularEncoderDecoder')
    assert load_converted(dst, out, strict=True) == ([], [])
    assert torch.equal(logits(dst), logits(src))
    # HAMLET's forward with its own weights: concat c1..c4, fuse, predict
    torch.manual_seed(0)
    img = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = src.extract_feat(img)
        head = src.decode_head
        cs = [F.interpolate(head.linear_c[i](f), size=feats[0].shape[2:], mode='bilinear',
                            align_corners=False) for i, f in enumerate(feats)]
        x = F.conv2d(torch.cat(cs, 1), sd['model.decode_head.linear_fuse.conv.weight'])
        x = F.relu(head.linear_fuse.bn(x))
        ref = F.conv2d(x, sd['model.decode_head.linear_pred.weight'],
                       sd['model.decode_head.linear_pred.bias'])
        assert torch.allclose(head(feats), ref, atol=1e-5)


def test_project_method_checkpoint_is_not_taken_for_hamlet():
    """A DACS checkpoint of this project holds model.* / ema_model.* in the project's
    own layout: auto-detection must not rename its keys the NVlabs way."""
    src = segmentor()
    sd = {f'{prefix}.{k}': v for prefix in ('model', 'ema_model', 'ref_model')
          for k, v in src.state_dict().items()}
    out, layout = convert_state_dict(dict(state_dict=sd, meta={}))
    assert layout == 'project'
    dst = segmentor()
    assert load_converted(dst, out, strict=True) == ([], [])
    assert torch.equal(logits(dst), logits(src))


@pytest.mark.parametrize('parts,prefixes', [(('encoder',), {'backbone'}),
                                            (('decoder',), {'decode_head'})])
def test_parts(parts, prefixes):
    out, _ = convert_state_dict(as_nvlabs_city(segmentor()), parts=parts)
    assert {k.split('.')[0] for k in out} == prefixes


def test_shape_mismatch_is_an_error_with_a_sentence():
    small = as_nvlabs_city(segmentor(channels=12))  # "B1": decoder width 12
    out, _ = convert_state_dict(small)
    wide = segmentor(channels=16)  # "B5": decoder width 16
    with pytest.raises(ValueError, match=r'(?s)another model size or decoder width .*'
                                         r'decode_head.linear_c.0.proj.weight: '
                                         r'checkpoint \(12, 8\), model \(16, 8\)'):
        load_converted(wide, out)


def test_missing_keys_table(capsys):
    out, _ = convert_state_dict(as_nvlabs_city(segmentor()), parts=('encoder',))
    out['backbone.extra.weight'] = torch.zeros(1)
    missing, unexpected = load_converted(segmentor(), out)
    printed = capsys.readouterr().out
    assert unexpected == ['backbone.extra.weight']
    assert 'missing in checkpoint' in printed and 'decode_head.linear_c.* (8)' in printed
    with pytest.raises(KeyError, match='keys not loaded into CustomEncoderDecoder'):
        load_converted(segmentor(), out, strict=True)


def test_bad_input():
    with pytest.raises(ValueError, match='could not detect the checkpoint layout'):
        convert_state_dict({'conv.weight': torch.zeros(1)})
    with pytest.raises(ValueError, match="unknown layout 'timm'"):
        convert_state_dict({}, layout='timm')
    with pytest.raises(ValueError, match=r"parts \('head',\) must be a non-empty subset"):
        convert_state_dict({}, parts=('head',))


def test_command_line(tmp_path, repo_root):
    src = segmentor()
    torch.save(dict(state_dict=as_nvlabs_city(src)), str(tmp_path / 'city.pth'))
    cfg = tmp_path / 'model.py'
    model = dict(type='CustomEncoderDecoder', backbone=backbone(),
                 decode_head=dict(type='OriginalSegFormerHead', in_channels=DIMS,
                                  in_index=[0, 1, 2, 3], channels=12, num_classes=5,
                                  norm_cfg=BN),
                 test_cfg=dict(mode='whole'))
    cfg.write_text(f'model = {model!r}\n')
    sys.path.insert(0, osp.join(repo_root, 'tools'))
    try:
        import convert_weights
    finally:
        sys.path.pop(0)
    info = convert_weights.main([str(tmp_path / 'city.pth'), str(tmp_path / 'out.pth'),
                                 '--config', str(cfg)])
    assert info['layout'] == 'nvlabs' and info['missing'] == info['unexpected'] == []
    dst = segmentor()
    ckpt = load_checkpoint(dst, str(tmp_path / 'out.pth'), strict=True)
    assert ckpt['meta']['layout'] == 'nvlabs'
    assert torch.equal(logits(dst), logits(src))


@pytest.mark.parametrize('parts', [['encoder'], ['decoder'], ['encoder', 'decoder']])
def test_segmentor_init_from(tmp_path, parts):
    src = segmentor()
    path = str(tmp_path / 'city.pth')
    torch.save(dict(state_dict=as_nvlabs_city(src)), path)
    cfg = dict(type='CustomEncoderDecoder', backbone=backbone(),
               decode_head=dict(type='OriginalSegFormerHead', in_channels=DIMS,
                                in_index=[0, 1, 2, 3], channels=12, num_classes=5,
                                norm_cfg=BN),
               test_cfg=dict(mode='whole'), init_from=path, init_parts=parts)
    model = build_segmentor(ConfigDict(cfg))
    model.init_weights()
    ref = src.state_dict()
    for prefix, part in (('backbone.', 'encoder'), ('decode_head.', 'decoder')):
        same = [torch.equal(v, ref[k]) for k, v in model.state_dict().items()
                if k.startswith(prefix) and v.dtype.is_floating_point]
        assert all(same) if part in parts else not any(same)


def test_segmentor_init_bad_parts():
    with pytest.raises(ValueError, match=r"init_parts \('head',\) must be a non-empty"):
        build_segmentor(ConfigDict(type='CustomEncoderDecoder', backbone=backbone(),
                                   decode_head=dict(type='OriginalSegFormerHead',
                                                    in_channels=DIMS,
                                                    in_index=[0, 1, 2, 3], channels=12,
                                                    num_classes=5),
                                   init_parts=['head']))
