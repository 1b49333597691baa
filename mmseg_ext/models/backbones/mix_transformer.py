"""Mix Transformer (MiT-B0..B5), the encoder of SegFormer, with stage-wise execution.

`SegFormer: Simple and Efficient Design for Semantic Segmentation with Transformers
<https://arxiv.org/abs/2105.15203>`_ (Xie et al., NeurIPS 2021), in the parameter
layout of NVlabs' implementation (``q``/``kv``/``proj`` linears, a strided
spatial-reduction convolution) with the per-stage modules kept in
``nn.ModuleList`` s, as the modular training of HAMLET (Colomer et al., ICCV 2023)
and the adapters need.

Extension hooks (for subclasses such as ``MixTransformerAdapter``):

* ``build_block(stage_idx, block_idx, **block_kwargs)`` builds one transformer
  block; override it (or pass ``block_cls``) to return a block with adapters.
* Linears (``attn.q``/``kv``/``proj``, ``mlp.fc1``/``fc2``) are ``nn.Linear``
  modules and can be replaced by other linear-like modules (ViDA).
* ``forward_blocks(stage_idx, tokens, hw_shape, prompts=None)`` runs the blocks
  of one stage on a token map ``(B, N, C)`` (adding per-block prompts if given).
* ``forward_stage(stage_idx, x, context=None)`` runs one whole stage (patch
  embedding, ``enter_stage``, blocks, stage norm) on an ``NCHW`` map and returns
  ``(tokens, out)``: the normalised token map ``(B, N, C)`` and the same
  features as ``NCHW`` (the input of the next stage).
* Override points, so that a subclass changes only what differs:
  ``image_context(img)`` (what the stages need from the image),
  ``enter_stage(stage_idx, tokens, hw_shape, context)`` (tokens after the patch
  embedding, and the stage's prompts), ``extra_outputs(context)`` (outputs after
  the stages'), and the block's ``add_parallel(out, x)`` (branches parallel to
  the Mix-FFN).
* ``forward(x, num_modules=None, train_from_module=1)`` runs stages
  ``1..num_modules`` only, those before ``train_from_module`` without autograd.
* ``frozen_modules`` (config) and ``freeze_or_not_modules(modules, requires_grad)``
  (runtime) switch whole stages between trainable and frozen (the ``'stages'``
  mode of :func:`mmseg_ext.models.utils.set_trainable`, which reads
  ``module_parts(k)``). Modules are numbered from 1 (module ``k`` is stage ``k``),
  as in HAMLET.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmcv.runner import BaseModule
from mmseg.models.builder import BACKBONES
from timm.layers import DropPath, trunc_normal_

from ..utils.trainable import check_stages, set_trainable

__all__ = ['MixTransformer']


class OverlapPatchEmbed(nn.Module):
    """Overlapping patch embedding: a strided convolution then a norm.

    Args:
        in_channels (int): input channels.
        embed_dims (int): output channels.
        patch_size (int): convolution kernel size.
        stride (int): convolution stride.
        norm_cfg (dict): norm after the convolution.
    """

    def __init__(self, in_channels, embed_dims, patch_size, stride, norm_cfg):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dims, kernel_size=patch_size,
                              stride=stride, padding=patch_size // 2)
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1]

    def forward(self, x):
        x = self.proj(x)
        hw_shape = x.shape[2:]
        x = x.flatten(2).transpose(1, 2)
        return self.norm(x), hw_shape


class EfficientSelfAttention(nn.Module):
    """Multi-head self-attention whose keys/values are spatially reduced by ``sr_ratio``.

    Args:
        dim (int): channels.
        num_heads (int): attention heads.
        qkv_bias (bool): bias of the q and kv linears.
        attn_drop (float): attention dropout.
        proj_drop (float): dropout after the output projection.
        sr_ratio (int): kernel and stride of the reduction convolution.
        sr_norm_cfg (dict): norm after the reduction convolution.
    """

    def __init__(self, dim, num_heads, qkv_bias, attn_drop, proj_drop, sr_ratio,
                 sr_norm_cfg):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'MixTransformer: embed dim {dim} is not divisible by '
                             f'num_heads {num_heads}')
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, kernel_size=sr_ratio, stride=sr_ratio)
            self.norm = build_norm_layer(sr_norm_cfg, dim)[1]

    def forward(self, x, hw_shape):
        B, N, C = x.shape
        heads = self.num_heads
        q = self.q(x).reshape(B, N, heads, C // heads).transpose(1, 2)
        if self.sr_ratio > 1:
            x_ = x.transpose(1, 2).reshape(B, C, *hw_shape)
            x_ = self.sr(x_).flatten(2).transpose(1, 2)
            x_ = self.norm(x_)
        else:
            x_ = x
        kv = self.kv(x_).reshape(B, -1, 2, heads, C // heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(
            q, kv[0], kv[1], dropout_p=self.attn_drop if self.training else 0.)
        out = out.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(out))


def pointwise(linear, x):
    """Applies ``linear`` over the channels of a channel-first map ``(B, C, N)``.

    A plain ``nn.Linear`` runs as one batched matrix product on the channel-first
    layout, the cost of mmseg's 1x1 convolutions with no transposed copies; any
    other module put in its place (e.g. a ViDA linear) is called on the token
    view ``(B, N, C)``.

    Returns:
        Tensor: ``(B, C_out, N)``.
    """
    if type(linear) is nn.Linear:
        weight = linear.weight.expand(x.shape[0], -1, -1)
        if linear.bias is None:
            return torch.bmm(weight, x)
        return torch.baddbmm(linear.bias[None, :, None], weight, x)
    return linear(x.transpose(1, 2)).transpose(1, 2)


class MixFFN(nn.Module):
    """Linear, 3x3 depth-wise convolution (positional information), GELU, linear.

    ``fc1``/``fc2`` are ``nn.Linear`` (NVlabs' keys and shapes) applied through
    :func:`pointwise` on the channel-first map the depth-wise convolution needs.

    Args:
        dim (int): input/output channels.
        hidden_dim (int): hidden channels.
        drop (float): dropout after the activation and after ``fc2``.
    """

    def __init__(self, dim, hidden_dim, drop):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.dwconv = nn.Conv2d(hidden_dim, hidden_dim, 3, 1, 1, groups=hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x, hw_shape):
        x = pointwise(self.fc1, x.transpose(1, 2))
        x = self.dwconv(x.unflatten(2, tuple(hw_shape)))
        x = self.drop(self.act(x)).flatten(2)
        return self.drop(pointwise(self.fc2, x).transpose(1, 2))


class MiTBlock(nn.Module):
    """Pre-norm transformer block: efficient attention then Mix-FFN, with drop-path.

    Args:
        dim (int): channels.
        num_heads (int): attention heads.
        mlp_ratio (int): hidden/input channels of the Mix-FFN.
        qkv_bias (bool): bias of the q and kv linears.
        drop (float): dropout rate.
        attn_drop (float): attention dropout rate.
        drop_path (float): stochastic depth rate of this block.
        sr_ratio (int): spatial reduction of the attention.
        norm_cfg (dict): norms of the block.
        sr_norm_cfg (dict): norm after the reduction convolution.
        with_cp (bool): gradient checkpointing.
    """

    def __init__(self, dim, num_heads, mlp_ratio, qkv_bias, drop, attn_drop, drop_path,
                 sr_ratio, norm_cfg, sr_norm_cfg, with_cp=False):
        super().__init__()
        self.norm1 = build_norm_layer(norm_cfg, dim)[1]
        self.attn = EfficientSelfAttention(dim, num_heads, qkv_bias, attn_drop, drop,
                                           sr_ratio, sr_norm_cfg)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = build_norm_layer(norm_cfg, dim)[1]
        self.mlp = MixFFN(dim, int(dim * mlp_ratio), drop)
        self.with_cp = with_cp

    def _inner_forward(self, x, hw_shape):
        x = x + self.drop_path(self.attn(self.norm1(x), hw_shape))
        return self.add_parallel(x + self.drop_path(self.mlp(self.norm2(x), hw_shape)), x)

    def add_parallel(self, out, x):
        """Hook: adds branches parallel to the Mix-FFN to the block's output
        ``out``, fed with the tokens ``x`` the Mix-FFN saw (after attention).
        None here (AdaptFormer's adapter in a subclass)."""
        return out

    def forward(self, x, hw_shape):
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._inner_forward, x, hw_shape, use_reentrant=False)
        return self._inner_forward(x, hw_shape)


@BACKBONES.register_module()
class MixTransformer(BaseModule):
    """Mix Transformer encoder of SegFormer (MiT-B0..B5 by config).

    Sizes (SegFormer, Table 6): ``embed_dims`` B0 [32, 64, 160, 256], B1-B5
    [64, 128, 320, 512]; ``depths`` B0/B1 [2, 2, 2, 2], B2 [3, 4, 6, 3],
    B3 [3, 4, 18, 3], B4 [3, 8, 27, 3], B5 [3, 6, 40, 3].

    Args:
        in_channels (int): image channels. Default: 3.
        embed_dims (Sequence[int]): channels of each stage.
            Default: (32, 64, 160, 256).
        num_heads (Sequence[int]): attention heads of each stage. Default: (1, 2, 5, 8).
        depths (Sequence[int]): blocks of each stage. Default: (2, 2, 2, 2).
        mlp_ratios (Sequence[int]): Mix-FFN expansion of each stage.
            Default: (4, 4, 4, 4).
        sr_ratios (Sequence[int]): attention spatial reduction of each stage.
            Default: (8, 4, 2, 1).
        patch_sizes (Sequence[int]): patch-embedding kernel of each stage.
            Default: (7, 3, 3, 3).
        strides (Sequence[int]): patch-embedding stride of each stage.
            Default: (4, 2, 2, 2).
        qkv_bias (bool): bias of the q and kv linears. Default: True.
        drop_rate (float): dropout rate. Default: 0.0.
        attn_drop_rate (float): attention dropout rate. Default: 0.0.
        drop_path_rate (float): stochastic depth, increasing linearly over all
            blocks up to this value. Default: 0.1.
        norm_cfg (dict): norms of the blocks and stage outputs.
            Default: dict(type='LN', eps=1e-6).
        patch_norm_cfg (dict): norms of the patch embeddings and of the attention
            reduction (NVlabs uses torch's default eps there; mmseg's port uses 1e-6).
            Default: dict(type='LN', eps=1e-5).
        out_indices (Sequence[int]): stages (0-based) whose outputs are returned.
            Default: (0, 1, 2, 3).
        frozen_modules (Sequence[int]): modules (1-based stages) whose parameters
            do not train and that stay in eval mode. Default: ().
        with_cp (bool): gradient checkpointing of the blocks. Default: False.
        pretrained (str, optional): checkpoint of the encoder in any layout
            :func:`mmseg_ext.models.utils.convert_state_dict` knows. Default: None.
        init_cfg (dict, optional): mmcv init config. Default: None.
    """

    def __init__(self,
                 in_channels=3,
                 embed_dims=(32, 64, 160, 256),
                 num_heads=(1, 2, 5, 8),
                 depths=(2, 2, 2, 2),
                 mlp_ratios=(4, 4, 4, 4),
                 sr_ratios=(8, 4, 2, 1),
                 patch_sizes=(7, 3, 3, 3),
                 strides=(4, 2, 2, 2),
                 qkv_bias=True,
                 drop_rate=0.,
                 attn_drop_rate=0.,
                 drop_path_rate=0.1,
                 norm_cfg=dict(type='LN', eps=1e-6),
                 patch_norm_cfg=dict(type='LN', eps=1e-5),
                 out_indices=(0, 1, 2, 3),
                 frozen_modules=(),
                 with_cp=False,
                 pretrained=None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        per_stage = dict(embed_dims=embed_dims, num_heads=num_heads, depths=depths,
                         mlp_ratios=mlp_ratios, sr_ratios=sr_ratios,
                         patch_sizes=patch_sizes, strides=strides)
        self.num_stages = len(embed_dims)
        for name, value in per_stage.items():
            if len(value) != self.num_stages:
                raise ValueError(
                    f'MixTransformer: {name} has {len(value)} entries, expected one per '
                    f'stage ({self.num_stages}, the length of embed_dims)')
        if not out_indices or not all(0 <= i < self.num_stages for i in out_indices):
            raise ValueError(f'MixTransformer: out_indices {tuple(out_indices)} must be '
                             f'stages in 0..{self.num_stages - 1}')
        check_stages(self, frozen_modules, 'frozen_modules')
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(f'MixTransformer: pretrained must be a path or None, got '
                            f'{type(pretrained).__name__}')
        if pretrained is not None and init_cfg is not None:
            raise ValueError('MixTransformer: set pretrained or init_cfg, not both')
        self.embed_dims = list(embed_dims)
        self.num_heads = list(num_heads)
        self.depths = list(depths)
        self.mlp_ratios = list(mlp_ratios)
        self.sr_ratios = list(sr_ratios)
        self.qkv_bias = qkv_bias
        self.drop_rate = drop_rate
        self.attn_drop_rate = attn_drop_rate
        self.norm_cfg = norm_cfg
        self.patch_norm_cfg = patch_norm_cfg
        self.out_indices = tuple(out_indices)
        self.frozen_modules = tuple(frozen_modules)
        self.with_cp = with_cp
        self.pretrained = pretrained

        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.patch_embeds = nn.ModuleList()
        self.blocks = nn.ModuleList()
        self.norms = nn.ModuleList()
        cur = 0
        for i in range(self.num_stages):
            self.patch_embeds.append(OverlapPatchEmbed(
                in_channels if i == 0 else embed_dims[i - 1], embed_dims[i],
                patch_sizes[i], strides[i], patch_norm_cfg))
            self.blocks.append(nn.ModuleList([
                self.build_block(i, j, drop_path=dpr[cur + j]) for j in range(depths[i])]))
            self.norms.append(build_norm_layer(norm_cfg, embed_dims[i])[1])
            cur += depths[i]
        set_trainable(self, 'stages', stages=self.frozen_modules, key='frozen_modules')

    def build_block(self, stage_idx, block_idx, **block_kwargs):
        """Builds block ``block_idx`` of stage ``stage_idx`` (0-based).

        Args:
            stage_idx (int): stage of the block.
            block_idx (int): position of the block in its stage.
            **block_kwargs: per-block settings overriding the stage's defaults:
                ``drop_path`` and any :class:`MiTBlock` argument, and
                ``block_cls`` (a callable taking :class:`MiTBlock`'s arguments,
                e.g. a subclass with adapters). Default block class: MiTBlock.

        Returns:
            nn.Module: called as ``block(tokens, hw_shape) -> tokens``.
        """
        block_cls = block_kwargs.pop('block_cls', MiTBlock)
        kwargs = dict(dim=self.embed_dims[stage_idx], num_heads=self.num_heads[stage_idx],
                      mlp_ratio=self.mlp_ratios[stage_idx], qkv_bias=self.qkv_bias,
                      drop=self.drop_rate, attn_drop=self.attn_drop_rate, drop_path=0.,
                      sr_ratio=self.sr_ratios[stage_idx], norm_cfg=self.norm_cfg,
                      sr_norm_cfg=self.patch_norm_cfg, with_cp=self.with_cp)
        kwargs.update(block_kwargs)
        return block_cls(**kwargs)

    def init_weights(self):
        """NVlabs initialisation, or the ``pretrained`` checkpoint (any known layout).

        ``init_cfg=dict(type='Pretrained', checkpoint=F)`` is read like
        ``pretrained=F`` (converted from its layout); other ``init_cfg`` s are mmcv's.
        """
        if self.pretrained is None and self.init_cfg is None:
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    trunc_normal_(m.weight, std=.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Conv2d):
                    fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                    fan_out //= m.groups
                    nn.init.normal_(m.weight, 0, math.sqrt(2.0 / fan_out))
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
        elif self.pretrained is not None:
            from ..utils.weight_conversion import load_pretrained_encoder
            load_pretrained_encoder(self, self.pretrained)
        elif isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            # mmcv's Pretrained init would load the keys as they are; convert them
            from ..utils.weight_conversion import load_pretrained_encoder
            load_pretrained_encoder(self, self.init_cfg['checkpoint'])
        else:
            super().init_weights()

    def freeze_or_not_modules(self, modules, requires_grad=False):
        """Sets ``requires_grad`` of the parameters of whole stages.

        Args:
            modules (Sequence[int]): module numbers (1-based stages).
            requires_grad (bool): True trains them, False freezes them. Default: False.
        """
        set_trainable(self, 'stages', stages=modules, requires_grad=requires_grad,
                      key='modules')

    def module_parts(self, module):
        """The submodules of module ``module`` (1-based): its patch embedding, its
        blocks and its stage norm."""
        return (self.patch_embeds[module - 1], self.blocks[module - 1],
                self.norms[module - 1])

    def train(self, mode=True):
        """Switches mode; frozen stages stay in eval mode (no dropout, no drop-path)."""
        super().train(mode)
        for m in self.frozen_modules:
            for part in self.module_parts(m):
                part.eval()
        return self

    def forward_blocks(self, stage_idx, tokens, hw_shape, prompts=None):
        """Runs the blocks of stage ``stage_idx`` on tokens ``(B, N, C)``, adding
        ``prompts[j]`` (when given and not None) before block ``j``."""
        for j, block in enumerate(self.blocks[stage_idx]):
            if prompts is not None and prompts[j] is not None:
                tokens = tokens + prompts[j]
            tokens = block(tokens, hw_shape)
        return tokens

    def image_context(self, img):
        """Hook: what the stages need from the image, a dict whose ``img`` is the
        first stage's input. Here just the image (spatial prior and prompt maps
        in a subclass)."""
        return dict(img=img)

    def enter_stage(self, stage_idx, tokens, hw_shape, context):
        """Hook: the tokens of stage ``stage_idx`` after its patch embedding and
        the per-block prompts for :meth:`forward_blocks`. Unchanged and None here
        (injectors and visual prompts in a subclass)."""
        return tokens, None

    def extra_outputs(self, context):
        """Hook: outputs appended after the stages' (none here)."""
        return []

    def forward_stage(self, stage_idx, x, context=None):
        """Runs stage ``stage_idx`` (0-based) on an ``NCHW`` map: patch embedding,
        :meth:`enter_stage`, blocks, norm.

        Args:
            stage_idx (int): 0-based stage.
            x (Tensor): the stage's input map (the image for stage 0).
            context (dict, optional): from :meth:`image_context`. Default: None.

        Returns:
            tuple[Tensor, Tensor]: the normalised tokens ``(B, N, C)`` and the same
            features as ``(B, C, H, W)`` (the next stage's input).
        """
        tokens, hw_shape = self.patch_embeds[stage_idx](x)
        tokens, prompts = self.enter_stage(stage_idx, tokens, hw_shape, context)
        tokens = self.forward_blocks(stage_idx, tokens, hw_shape, prompts)
        tokens = self.norms[stage_idx](tokens)
        out = tokens.transpose(1, 2).reshape(tokens.shape[0], -1, *hw_shape)
        return tokens, out.contiguous()

    def forward(self, x, num_modules=None, train_from_module=1):
        """Runs stages ``1..num_modules`` (all when None).

        Args:
            x (Tensor): images ``(B, C, H, W)``.
            num_modules (int, optional): last module (1-based stage) to run.
                Default: None.
            train_from_module (int): first module that records autograd; modules
                before it run without (HAMLET's modular training: they get no
                gradient and cost no backward pass). Default: 1.

        Returns:
            list[Tensor]: the outputs of the stages in ``out_indices`` that ran,
            then :meth:`extra_outputs`.
        """
        if num_modules is None:
            num_modules = self.num_stages
        if not 1 <= num_modules <= self.num_stages:
            raise ValueError(f'{type(self).__name__}: num_modules must be in '
                             f'1..{self.num_stages}, got {num_modules}')
        context = self.image_context(x)
        x = context['img']
        outs = []
        grad = torch.is_grad_enabled()
        for i in range(num_modules):
            with torch.set_grad_enabled(grad and i + 1 >= train_from_module):
                _, x = self.forward_stage(i, x, context)
            if i in self.out_indices:
                outs.append(x)
        return outs + self.extra_outputs(context)
