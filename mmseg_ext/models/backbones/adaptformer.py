"""Bottleneck adapter of AdaptFormer, run in parallel to a transformer block's FFN.

`AdaptFormer: Adapting Vision Transformers for Scalable Visual Recognition
<https://arxiv.org/abs/2205.13535>`_ (Chen et al., NeurIPS 2022):
``x_out = x + FFN(LN(x)) + s * up(dropout(act(down(x))))`` with the
up-projection initialised to zero, so the pretrained block is unchanged at step 0.
"""
import math

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer

from ..utils.peft_module import PEFTModule

__all__ = ['Adapter']


class Adapter(PEFTModule):
    """AdaptFormer bottleneck: down-projection, activation, dropout, up-projection, scale.

    Args:
        embed_dims (int): Channels of the tokens it adapts (its stage's width).
        bottleneck_ratio (float): Bottleneck width / ``embed_dims`` (AdaptFormer
            uses 64 of 768, about 0.083). Default: 0.25.
        scale (float): Factor ``s`` of the adapter's output (initial value when
            learnable). Default: 0.1.
        learnable_scale (bool): Learn ``s`` (one scalar) instead of fixing it.
            Default: False.
        dropout (float): Dropout between the activation and the up-projection.
            Default: 0.1.
        act_cfg (dict): Activation. Default: dict(type='ReLU').
        init_cfg (dict, optional): mmcv init config. Default: None.
    """

    def __init__(self, embed_dims, bottleneck_ratio=0.25, scale=0.1,
                 learnable_scale=False, dropout=0.1, act_cfg=dict(type='ReLU'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not 0 < bottleneck_ratio <= 1:
            raise ValueError(f'Adapter: bottleneck_ratio must be in (0, 1], got '
                             f'{bottleneck_ratio}')
        if not 0 <= dropout < 1:
            raise ValueError(f'Adapter: dropout must be in [0, 1), got {dropout}')
        self.embed_dims = embed_dims
        self.bottleneck_dims = max(1, int(round(embed_dims * bottleneck_ratio)))
        self.down = nn.Linear(embed_dims, self.bottleneck_dims)
        self.act = build_activation_layer(act_cfg)
        self.dropout = nn.Dropout(dropout)
        self.up = nn.Linear(self.bottleneck_dims, embed_dims)
        self.init_scale = float(scale)
        if learnable_scale:
            self.scale = nn.Parameter(torch.tensor(self.init_scale))
        else:
            self.register_buffer('scale', torch.tensor(self.init_scale),
                                 persistent=False)
        self.reset_parameters()

    def reset_parameters(self):
        """LoRA-style init of AdaptFormer: Kaiming down, zero up and biases."""
        nn.init.kaiming_uniform_(self.down.weight, a=math.sqrt(5))
        nn.init.zeros_(self.down.bias)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)
        with torch.no_grad():
            self.scale.fill_(self.init_scale)

    def forward(self, x):
        """Returns the correction ``s * up(dropout(act(down(x))))`` (same shape as x)."""
        return self.up(self.dropout(self.act(self.down(x)))) * self.scale
