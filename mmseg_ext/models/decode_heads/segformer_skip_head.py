"""SegFormer's all-MLP decoder with a skip connection from a convolutional stem.

For the ViT-Adapter configuration (`Vision Transformer Adapter for Dense
Predictions <https://arxiv.org/abs/2205.08534>`_): the spatial prior module's
stride-4 map, returned by ``MixTransformerAdapter(out_stem=True)`` after the
stage outputs, carries fine detail that the transformer stages lose. It joins
the decoder after SegFormer's MLP fusion (`SegFormer
<https://arxiv.org/abs/2105.15203>`_) through a zero-initialised projection, so
at step 0 the head computes exactly what ``SegformerHead`` computes.
"""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads import SegformerHead
from mmseg.ops import resize

__all__ = ['SegformerSkipHead']


@HEADS.register_module()
class SegformerSkipHead(SegformerHead):
    """SegformerHead whose fused features also receive the stem's features.

    ``logits = cls(fuse(mlp(stages)) + proj(conv(stem)))``, computed at the
    stem's resolution; ``proj`` starts at zero. When the backbone passes None as
    the stem (its spatial prior switched off) the skip is left out.

    Args:
        skip_index (int): Index of the stem's map in the backbone outputs.
            Default: 4.
        skip_channels (int): Channels of the stem's map. Default: 64.
        **kwargs: Arguments of ``SegformerHead`` (``in_index`` lists the stage
            outputs only).
    """

    def __init__(self, skip_index=4, skip_channels=64, **kwargs):
        super().__init__(**kwargs)
        if skip_index in self.in_index:
            raise ValueError(f'SegformerSkipHead: skip_index {skip_index} is also in '
                             f'in_index {self.in_index}; it must point at the stem '
                             f'output, after the stage outputs')
        self.skip_index = skip_index
        self.skip_conv = ConvModule(skip_channels, self.channels, 3, padding=1,
                                    norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.skip_proj = nn.Conv2d(self.channels, self.channels, kernel_size=1)
        self._zero_skip_proj()

    def _zero_skip_proj(self):
        nn.init.zeros_(self.skip_proj.weight)
        nn.init.zeros_(self.skip_proj.bias)

    def init_weights(self):
        """mmseg's head init, then the zero skip projection."""
        super().init_weights()
        self._zero_skip_proj()

    def forward(self, inputs):
        if len(inputs) <= self.skip_index:
            raise ValueError(f'SegformerSkipHead: got {len(inputs)} backbone outputs, '
                             f'no stem at skip_index {self.skip_index} (set '
                             f'out_stem=True in the backbone)')
        skip = inputs[self.skip_index]
        stages = self._transform_inputs(inputs)
        size = stages[0].shape[2:] if skip is None else skip.shape[2:]
        outs = [resize(conv(x), size=size, mode=self.interpolate_mode,
                       align_corners=self.align_corners)
                for conv, x in zip(self.convs, stages)]
        out = self.fusion_conv(torch.cat(outs, dim=1))
        if skip is not None:
            out = out + self.skip_proj(self.skip_conv(skip))
        return self.cls_seg(out)
