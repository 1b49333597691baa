"""Spatial prior module and injector of ViT-Adapter, on mmcv's deformable attention.

`Vision Transformer Adapter for Dense Predictions
<https://arxiv.org/abs/2205.08534>`_ (Chen et al., ICLR 2023), adapted to the
hierarchical MiT: the convolutional spatial prior module (SPM) turns the image
into features at 1/4, 1/8, 1/16 and 1/32; an injector lets the tokens of a MiT
stage attend to some of these levels through
:class:`mmcv.ops.MultiScaleDeformableAttention` (sparse sampling around a
reference point per token) and adds the result with a learnable gain that
starts at zero, so the pretrained backbone is unchanged at step 0.
"""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_norm_layer
from mmcv.ops import MultiScaleDeformableAttention

from ..utils.peft_module import PEFTModule

__all__ = ['SpatialPriorModule', 'Injector', 'deform_inputs']


def deform_inputs(query_hw, level_shapes, device):
    """Reference points and level layout of one injection, for this input size.

    Args:
        query_hw (tuple[int, int]): ``(H, W)`` of the token map that queries.
        level_shapes (Sequence[tuple[int, int]]): ``(H, W)`` of each feature
            level that is attended to, in the order of the concatenated values.
        device (torch.device): Where the tensors are built.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``reference_points`` (1, H*W, L, 2) with
        the normalised ``(x, y)`` centre of each query token (the same relative
        position in every level), ``spatial_shapes`` (L, 2) long, and
        ``level_start_index`` (L,) long.
    """
    h, w = query_hw
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w
    ref_y, ref_x = torch.meshgrid(ys, xs, indexing='ij')
    ref = torch.stack((ref_x.reshape(-1), ref_y.reshape(-1)), -1)
    num_levels = len(level_shapes)
    reference_points = ref[None, :, None, :].expand(1, h * w, num_levels, 2)
    spatial_shapes = torch.as_tensor(level_shapes, dtype=torch.long, device=device)
    sizes = spatial_shapes.prod(1)
    level_start_index = torch.cat((sizes.new_zeros(1), sizes.cumsum(0)[:-1]))
    return reference_points, spatial_shapes, level_start_index


class SpatialPriorModule(PEFTModule):
    """Convolutional stem of ViT-Adapter: image -> features at strides 4, 8, 16, 32.

    ``c1`` (stride 4) is the output of the ResNet-like stem (three 3x3
    convolutions, max-pool); ``c2..c4`` follow by strided 3x3 convolutions; a
    1x1 convolution maps each level to ``embed_dims`` channels.

    Args:
        in_channels (int): Image channels. Default: 3.
        inplanes (int): Channels of the stem (``c1``); ``c2`` has twice, ``c3``
            and ``c4`` four times as many. Default: 64.
        embed_dims (int): Output channels of every level. Default: 64.
        norm_cfg (dict): Norm of the convolutions (SyncBN on multi-GPU runs).
            Default: dict(type='BN').
        init_cfg (dict, optional): mmcv init config. Default: None.
    """

    def __init__(self, in_channels=3, inplanes=64, embed_dims=64,
                 norm_cfg=dict(type='BN'), init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims

        def conv(cin, cout, stride):
            return ConvModule(cin, cout, 3, stride=stride, padding=1, bias=False,
                              norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'))

        self.stem = nn.Sequential(
            conv(in_channels, inplanes, 2), conv(inplanes, inplanes, 1),
            conv(inplanes, inplanes, 1), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        widths = [inplanes, 2 * inplanes, 4 * inplanes, 4 * inplanes]
        self.downs = nn.ModuleList(
            [conv(widths[i], widths[i + 1], 2) for i in range(3)])
        self.projs = nn.ModuleList(
            [nn.Conv2d(c, embed_dims, kernel_size=1) for c in widths])
        self.reset_parameters()

    def reset_parameters(self):
        """Kaiming convolutions, unit norms (the SPM has no zero output: the
        injector gains and the skip head's projection are what start at zero)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, img):
        """Returns ``[c1, c2, c3, c4]``, ``(B, embed_dims, H/s, W/s)`` for s = 4..32."""
        x = self.stem(img)
        feats = [x]
        for down in self.downs:
            x = down(x)
            feats.append(x)
        return [proj(f) for proj, f in zip(self.projs, feats)]


class Injector(PEFTModule):
    """Injects spatial-prior features into backbone tokens by deformable attention.

    ``tokens + gamma * MSDeformAttn(LN(tokens), LN(proj(feats)))`` with
    ``gamma`` a per-channel gain initialised to ``init_gain`` (0: identity).

    Args:
        embed_dims (int): Channels of the backbone tokens (the stage's width).
        feat_dims (int): Channels of the spatial-prior features.
        num_heads (int): Attention heads. Default: 8.
        num_levels (int): Feature levels attended to. Default: 3.
        num_points (int): Sampling points per head and level. Default: 4.
        init_gain (float): Initial value of ``gamma``. Default: 0.
        norm_cfg (dict): Norm of the query and of the features.
            Default: dict(type='LN', eps=1e-6).
        init_cfg (dict, optional): mmcv init config. Default: None.
    """

    def __init__(self, embed_dims, feat_dims, num_heads=8, num_levels=3, num_points=4,
                 init_gain=0., norm_cfg=dict(type='LN', eps=1e-6), init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads != 0:
            raise ValueError(f'Injector: embed_dims {embed_dims} is not divisible by '
                             f'num_heads {num_heads}')
        self.num_levels = num_levels
        self.init_gain = float(init_gain)
        self.query_norm = build_norm_layer(norm_cfg, embed_dims)[1]
        self.feat_proj = nn.Linear(feat_dims, embed_dims)
        self.feat_norm = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = MultiScaleDeformableAttention(
            embed_dims=embed_dims, num_heads=num_heads, num_levels=num_levels,
            num_points=num_points, dropout=0., batch_first=True)
        self.gamma = nn.Parameter(torch.full((embed_dims,), self.init_gain))
        self.reset_parameters()

    def reset_parameters(self):
        """mmcv's deformable-attention init (offsets on a ring), unit norms,
        Xavier projection, gain ``init_gain``."""
        self.attn.init_weights()
        for norm in (self.query_norm, self.feat_norm):
            nn.init.ones_(norm.weight)
            nn.init.zeros_(norm.bias)
        nn.init.xavier_uniform_(self.feat_proj.weight)
        nn.init.zeros_(self.feat_proj.bias)
        with torch.no_grad():
            self.gamma.fill_(self.init_gain)

    def forward(self, tokens, hw_shape, feats):
        """Adds the injected features to ``tokens``.

        Args:
            tokens (Tensor): ``(B, H*W, C)`` backbone tokens.
            hw_shape (tuple[int, int]): ``(H, W)`` of the tokens.
            feats (Sequence[Tensor]): the ``num_levels`` spatial-prior maps
                ``(B, feat_dims, h_l, w_l)`` attended to.

        Returns:
            Tensor: ``(B, H*W, C)``.
        """
        if len(feats) != self.num_levels:
            raise ValueError(f'Injector: expected {self.num_levels} feature levels, '
                             f'got {len(feats)}')
        shapes = [tuple(f.shape[2:]) for f in feats]
        ref, spatial_shapes, level_start_index = deform_inputs(
            tuple(hw_shape), shapes, tokens.device)
        value = torch.cat([f.flatten(2).transpose(1, 2) for f in feats], dim=1)
        value = self.feat_norm(self.feat_proj(value))
        query = self.query_norm(tokens)
        # identity=0: the attention's own residual is replaced by the gated one.
        out = self.attn(query, value=value, identity=query.new_zeros(()),
                        reference_points=ref.expand(tokens.shape[0], -1, -1, -1),
                        spatial_shapes=spatial_shapes,
                        level_start_index=level_start_index)
        return tokens + self.gamma * out
