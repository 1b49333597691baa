"""Conversion of SegFormer checkpoints between key layouts, and checked loading.

Layouts (of the encoder ``MixTransformer`` and the heads):

* ``nvlabs``: NVlabs/SegFormer. ImageNet ``mit_b*.pth`` (encoder keys at the top,
  ``patch_embed1``, ``block1.0.attn.q``, ``norm1``, plus the classifier ``head``)
  and Cityscapes ``segformer.b*.1024x1024.city.160k.pth`` (``backbone.*`` and
  ``decode_head.linear_c4.proj``, ``linear_fuse``, ``linear_pred``).
* ``mmseg``: mmseg 0.30's ``MixVisionTransformer`` (``layers.0.1.0.attn.attn.
  in_proj_weight``, ``ffn.layers.0`` as 1x1 convolutions) and ``SegformerHead``
  (``convs``, ``fusion_conv``, ``conv_seg``).
* ``hamlet``: HAMLET/DAFormer UDA checkpoints (``mitb1_uda.pth``): the student under
  ``model.`` (``ema_model.``/``imnet_model.`` are ignored), NVlabs encoder keys, the
  head as ``linear_c.{i}``, ``linear_fuse`` (stages concatenated shallow to deep),
  ``linear_fuse_m1``/``linear_pred_m1`` (the module-1 lightweight decoder).
* ``project``: this project's ``MixTransformer`` (``patch_embeds.{i}``,
  ``blocks.{i}.{j}``, ``norms.{i}``) with ``OriginalSegFormerHead`` /
  ``ModularSegFormerHead`` (NVlabs/HAMLET heads) or mmseg's ``SegformerHead``.

:func:`convert_state_dict` turns any of them into the ``project`` layout (a
segmentor state dict with ``backbone.`` and ``decode_head.`` keys);
:func:`load_converted` loads that into a model, prints the missing/unexpected
keys as a table and raises on shape mismatches with a sentence saying what they
mean (e.g. a B1 checkpoint into a B5 config).
"""
import re

import torch

from ...core.checkpoint import key_report, load_converted, strip_prefix

__all__ = ['LAYOUTS', 'PARTS', 'detect_layout', 'convert_state_dict',
           'convert_checkpoint_file', 'encoder_to_mmseg', 'load_converted',
           'load_pretrained_encoder',
           'key_report']

LAYOUTS = ('auto', 'nvlabs', 'mmseg', 'hamlet', 'project')
PARTS = ('encoder', 'decoder')

# NVlabs encoder key -> project key (the attention/FFN names are the same otherwise).
_NVLABS_ENCODER = [
    (r'^patch_embed(\d)\.', lambda m: f'patch_embeds.{int(m.group(1)) - 1}.'),
    (r'^block(\d)\.', lambda m: f'blocks.{int(m.group(1)) - 1}.'),
    (r'^norm(\d)\.', lambda m: f'norms.{int(m.group(1)) - 1}.'),
    (r'\.mlp\.dwconv\.dwconv\.', lambda m: '.mlp.dwconv.'),
]
# mmseg encoder key -> project key, for the parameters that are only renamed.
_MMSEG_ENCODER = [
    (r'^layers\.(\d)\.0\.projection\.', lambda m: f'patch_embeds.{m.group(1)}.proj.'),
    (r'^layers\.(\d)\.0\.norm\.', lambda m: f'patch_embeds.{m.group(1)}.norm.'),
    (r'^layers\.(\d)\.2\.', lambda m: f'norms.{m.group(1)}.'),
    (r'^layers\.(\d)\.1\.(\d+)\.', lambda m: f'blocks.{m.group(1)}.{m.group(2)}.'),
    (r'\.attn\.attn\.out_proj\.', lambda m: '.attn.proj.'),
    (r'\.ffn\.layers\.0\.', lambda m: '.mlp.fc1.'),
    (r'\.ffn\.layers\.1\.', lambda m: '.mlp.dwconv.'),
    (r'\.ffn\.layers\.4\.', lambda m: '.mlp.fc2.'),
]


def _rename(key, rules):
    for pattern, repl in rules:
        key = re.sub(pattern, repl, key)
    return key


def detect_layout(state_dict):
    """Guesses the layout of a checkpoint's state dict.

    Args:
        state_dict (dict): the checkpoint's ``state_dict`` (or the checkpoint).

    Returns:
        str: one of ``'nvlabs'``, ``'mmseg'``, ``'hamlet'``, ``'project'``.
    """
    keys = list(state_dict)
    if any(k.startswith(('model.', 'ema_model.', 'imnet_model.')) for k in keys):
        return 'hamlet'
    enc = [k[len('backbone.'):] if k.startswith('backbone.') else k for k in keys]
    if any(re.match(r'layers\.\d\.1\.\d+\.attn\.attn\.in_proj_weight', k) for k in enc):
        return 'mmseg'
    if any(k.startswith('patch_embeds.') for k in enc):
        return 'project'
    if any(re.match(r'patch_embed\d\.', k) for k in enc):
        if any(k.startswith(('decode_head.linear_c.', 'decode_head.linear_fuse_m1.'))
               for k in keys):
            return 'hamlet'
        return 'nvlabs'
    raise ValueError('could not detect the checkpoint layout: none of its keys look like '
                     'an NVlabs (patch_embed1.*), mmseg (layers.0.1.0.attn.attn.*), '
                     'HAMLET (model.backbone.*) or project (patch_embeds.*) MiT encoder; '
                     f'first keys: {keys[:5]}')


def _mmseg_encoder_to_project(sd):
    out = {}
    for key, value in sd.items():
        m = re.match(r'^(layers\.\d\.1\.\d+\.attn)\.attn\.in_proj_(weight|bias)$', key)
        if m:
            base = _rename(m.group(1) + '.', _MMSEG_ENCODER)
            dim = value.shape[0] // 3
            out[f'{base}q.{m.group(2)}'] = value[:dim]
            out[f'{base}kv.{m.group(2)}'] = value[dim:]
            continue
        new = _rename(key, _MMSEG_ENCODER)
        if re.search(r'\.mlp\.fc[12]\.weight$', new):
            value = value.reshape(value.shape[0], value.shape[1])
        out[new] = value
    return out


def encoder_to_mmseg(sd):
    """Project encoder keys -> mmseg ``MixVisionTransformer`` keys (the reverse way).

    Args:
        sd (dict): a project ``MixTransformer`` state dict.

    Returns:
        dict: a state dict mmseg's ``MixVisionTransformer`` loads.
    """
    inverse = [
        (r'^patch_embeds\.(\d)\.proj\.', lambda m: f'layers.{m.group(1)}.0.projection.'),
        (r'^patch_embeds\.(\d)\.norm\.', lambda m: f'layers.{m.group(1)}.0.norm.'),
        (r'^norms\.(\d)\.', lambda m: f'layers.{m.group(1)}.2.'),
        (r'^blocks\.(\d)\.(\d+)\.', lambda m: f'layers.{m.group(1)}.1.{m.group(2)}.'),
        (r'\.attn\.proj\.', lambda m: '.attn.attn.out_proj.'),
        (r'\.mlp\.fc1\.', lambda m: '.ffn.layers.0.'),
        (r'\.mlp\.dwconv\.', lambda m: '.ffn.layers.1.'),
        (r'\.mlp\.fc2\.', lambda m: '.ffn.layers.4.'),
    ]
    out = {}
    for key, value in sd.items():
        m = re.match(r'^(blocks\.\d\.\d+\.attn)\.q\.(weight|bias)$', key)
        if m:
            kv = sd[f'{m.group(1)}.kv.{m.group(2)}']
            base = _rename(m.group(1) + '.', inverse)
            out[f'{base}attn.in_proj_{m.group(2)}'] = torch.cat([value, kv])
            continue
        if re.match(r'^blocks\.\d\.\d+\.attn\.kv\.', key):
            continue
        if re.search(r'\.mlp\.fc[12]\.weight$', key):
            value = value[:, :, None, None]
        out[_rename(key, inverse)] = value
    return out


def _nvlabs_head_to_project(sd):
    out = {}
    for key, value in sd.items():
        if key.startswith('conv_seg.'):  # built by NVlabs' base head, never used
            continue
        key = re.sub(r'^linear_c(\d)\.', lambda m: f'linear_c.{int(m.group(1)) - 1}.', key)
        out[re.sub(r'^linear_pred\.', 'conv_seg.', key)] = value
    return out


def _hamlet_head_to_project(sd):
    out = {}
    num_scales = len({k.split('.')[1] for k in sd if k.startswith('linear_c.')})
    for key, value in sd.items():
        if key.startswith('conv_seg.'):
            continue
        if key == 'linear_fuse.conv.weight' and num_scales > 1:
            # HAMLET concatenates shallow -> deep; the project head deep -> shallow.
            value = torch.cat(list(reversed(value.chunk(num_scales, dim=1))), dim=1)
        key = re.sub(r'^linear_fuse_m(\d)\.', r'exit_fuses.\1.', key)
        key = re.sub(r'^linear_pred_m(\d)\.', r'exit_preds.\1.', key)
        out[re.sub(r'^linear_pred\.', 'conv_seg.', key)] = value
    return out


def convert_state_dict(checkpoint, layout='auto', parts=PARTS):
    """Converts a SegFormer checkpoint to the project's segmentor keys.

    Args:
        checkpoint (dict): a checkpoint or its ``state_dict``.
        layout (str): one of :data:`LAYOUTS`. Default: 'auto'.
        parts (Sequence[str]): ``'encoder'`` and/or ``'decoder'``: what to keep.
            Default: ('encoder', 'decoder').

    Returns:
        tuple[dict, str]: the state dict (``backbone.*``, ``decode_head.*``) and
        the layout it was read as.
    """
    if layout not in LAYOUTS:
        raise ValueError(f'unknown layout {layout!r}; expected one of {LAYOUTS}')
    if not parts or any(p not in PARTS for p in parts):
        raise ValueError(f'parts {tuple(parts)} must be a non-empty subset of {PARTS}')
    sd = checkpoint.get('state_dict', checkpoint)
    sd = {re.sub(r'^module\.', '', k): v for k, v in sd.items()}
    if layout == 'auto':
        layout = detect_layout(sd)
    if layout == 'hamlet' and any(k.startswith('model.') for k in sd):
        sd = strip_prefix(sd, 'model.')
        if any(k.startswith('backbone.patch_embeds.') for k in sd):
            layout = 'project'  # this project's own method checkpoint (DACS, CoTTA...)
    if any(k.startswith('backbone.') for k in sd):
        encoder, head = strip_prefix(sd, 'backbone.'), strip_prefix(sd, 'decode_head.')
    else:  # encoder-only (ImageNet) checkpoint; NVlabs' classifier 'head.*' dropped
        encoder = {k: v for k, v in sd.items() if not k.startswith('head.')}
        head = {}
    if layout == 'mmseg':
        encoder = _mmseg_encoder_to_project(encoder)
    elif layout in ('nvlabs', 'hamlet'):
        encoder = {_rename(k, _NVLABS_ENCODER): v for k, v in encoder.items()}
        head = (_nvlabs_head_to_project if layout == 'nvlabs'
                else _hamlet_head_to_project)(head)
    out = {}
    if 'encoder' in parts:
        out.update({f'backbone.{k}': v for k, v in encoder.items()})
    if 'decoder' in parts:
        out.update({f'decode_head.{k}': v for k, v in head.items()})
    return out, layout


def load_pretrained_encoder(backbone, filename, trusted=False):
    """Loads an encoder checkpoint of any known layout into a ``MixTransformer``.

    Args:
        backbone (nn.Module): the encoder.
        filename (str): checkpoint path.
        trusted (bool): see :func:`mmseg_ext.core.load_checkpoint_file`. Default: False.
    """
    from mmcv.utils import get_logger

    from ...core import load_checkpoint_file
    checkpoint = load_checkpoint_file(filename, trusted=trusted)
    sd, _ = convert_state_dict(checkpoint, parts=('encoder',))
    return load_converted(backbone, sd, prefix='backbone.',
                          logger=get_logger('mmseg'))


def convert_checkpoint_file(src, dst, layout='auto', parts=PARTS, config=None,
                            trusted=False):
    """Converts checkpoint file ``src`` into ``dst`` (project layout), optionally
    checking it against the model of ``config``.

    Args:
        src (str): input checkpoint.
        dst (str): output checkpoint (written atomically).
        layout (str): one of :data:`LAYOUTS`. Default: 'auto'.
        parts (Sequence[str]): subset of :data:`PARTS` to keep.
            Default: ('encoder', 'decoder').
        config (str | mmcv.Config, optional): a model config; the converted weights
            are loaded into its segmentor (shape errors raise, key table printed).
            Default: None.
        trusted (bool): fully unpickle ``src``. Default: False.

    Returns:
        dict: ``layout``, ``num_keys`` and, with a config, ``missing`` and
        ``unexpected`` keys.
    """
    from ...core import atomic_save, load_checkpoint_file
    checkpoint = load_checkpoint_file(src, trusted=trusted)
    sd, found = convert_state_dict(checkpoint, layout, parts)
    if not sd:
        raise ValueError(f'{src}: nothing to write for parts {tuple(parts)} (read as '
                         f'layout {found!r})')
    info = dict(layout=found, num_keys=len(sd))
    if config is not None:
        from mmcv import Config
        from mmseg.models import build_segmentor
        cfg = Config.fromfile(config) if isinstance(config, str) else config
        model = build_segmentor(cfg.model)
        info['missing'], info['unexpected'] = load_converted(model, sd)
        if 'encoder' not in parts:
            info['missing'] = [k for k in info['missing'] if not k.startswith('backbone.')]
        if 'decoder' not in parts:
            info['missing'] = [k for k in info['missing']
                               if not k.startswith('decode_head.')]
    atomic_save(dict(state_dict=sd, meta=dict(converted_from=str(src), layout=found,
                                              parts=list(parts))), dst)
    return info
