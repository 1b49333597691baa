"""The all-MLP decoder of SegFormer in NVlabs' parameter layout."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.ops import resize

__all__ = ['OriginalSegFormerHead']


class LinearEmbed(nn.Module):
    """Per-scale linear projection of an ``NCHW`` map (NVlabs' ``MLP``).

    Args:
        in_channels (int): input channels.
        embed_dims (int): output channels.
    """

    def __init__(self, in_channels, embed_dims):
        super().__init__()
        self.proj = nn.Linear(in_channels, embed_dims)

    def forward(self, x):
        n, _, h, w = x.shape
        x = self.proj(x.flatten(2).transpose(1, 2))
        return x.transpose(1, 2).reshape(n, -1, h, w)


@HEADS.register_module()
class OriginalSegFormerHead(BaseDecodeHead):
    """SegFormer's head as NVlabs wrote it: per-scale linear, linear fuse, linear pred.

    `SegFormer <https://arxiv.org/abs/2105.15203>`_, Sec. 3.2: each stage's
    features are projected to ``channels`` by a linear layer, upsampled to 1/4,
    concatenated from the deepest to the shallowest (NVlabs' order), fused by a
    1x1 convolution + norm + ReLU and classified. This is the layout NVlabs and
    HAMLET checkpoints hold (``linear_c*``, ``linear_fuse``, ``linear_pred``);
    :func:`mmseg_ext.models.utils.convert_state_dict` renames them to this
    class's keys (``linear_c.{i}``, ``linear_fuse``, ``conv_seg``). mmseg's
    ``SegformerHead`` (a ConvModule per scale) is a different network.

    Args:
        interpolate_mode (str): upsampling mode. Default: 'bilinear'.
        **kwargs: :class:`BaseDecodeHead` arguments (``in_channels`` a list,
            ``channels`` the decoder embed dim: 256 for B0/B1, 768 for B2-B5).
    """

    def __init__(self, interpolate_mode='bilinear', **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        if len(self.in_channels) != len(self.in_index):
            raise ValueError(f'{type(self).__name__}: in_channels {self.in_channels} and '
                             f'in_index {self.in_index} must have the same length')
        self.interpolate_mode = interpolate_mode
        self.linear_c = nn.ModuleList(
            [LinearEmbed(c, self.channels) for c in self.in_channels])
        self.linear_fuse = ConvModule(
            in_channels=self.channels * len(self.in_channels), out_channels=self.channels,
            kernel_size=1, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def embed(self, inputs, num_inputs):
        """Projects and upsamples the first ``num_inputs`` selected features.

        Returns:
            Tensor: their concatenation, deepest first.
        """
        if len(inputs) < num_inputs:
            raise ValueError(f'{type(self).__name__}: needs {num_inputs} feature maps, '
                             f'got {len(inputs)}')
        size = inputs[0].shape[2:]
        outs = []
        for i in reversed(range(num_inputs)):
            if inputs[i].shape[1] != self.in_channels[i]:
                raise ValueError(
                    f'{type(self).__name__}: input {i} has {inputs[i].shape[1]} channels, '
                    f'expected in_channels[{i}]={self.in_channels[i]}')
            out = self.linear_c[i](inputs[i])
            if out.shape[2:] != size:
                out = resize(out, size=size, mode=self.interpolate_mode,
                             align_corners=self.align_corners)
            outs.append(out)
        return torch.cat(outs, dim=1)

    def forward(self, inputs):
        inputs = self._transform_inputs(inputs)
        out = self.linear_fuse(self.embed(inputs, len(self.in_channels)))
        return self.cls_seg(out)
