"""Visual prompts feeding the stages of a frozen hierarchical backbone.

Both prompt modules share one interface with the backbone:

* ``prepare(img) -> (img, context)`` before the first stage;
* ``stage_prompts(stage_idx, tokens, hw_shape, context)`` at the start of a
  stage (after its patch embedding): one prompt ``(B, N, C)`` or None per block
  of the stage, added to the tokens before that block.

Their prompt maps come from a chain of strided convolutions with the kernel,
stride and padding of the backbone's patch embeddings, so each stage's map has
exactly the stage's token grid for any input size. Their output projections
start at zero, so the pretrained backbone is unchanged at step 0.
"""
import torch
import torch.nn as nn

from ..utils.peft_module import PEFTModule

__all__ = ['ExplicitVisualPrompt', 'ConvolutionalVisualPrompt', 'high_frequency_components']


def high_frequency_components(img, mask_ratio=0.25):
    """The image without its lowest spatial frequencies (EVP's handcrafted input).

    Args:
        img (Tensor): ``(B, C, H, W)``.
        mask_ratio (float): Side of the centred (shifted) low-frequency square
            that is removed, as a fraction of H and W. Default: 0.25.

    Returns:
        Tensor: ``(B, C, H, W)`` magnitude of the inverse transform.
    """
    h, w = img.shape[-2:]
    spectrum = torch.fft.fftshift(torch.fft.fft2(img.float(), norm='forward'),
                                  dim=(-2, -1))
    mh, mw = int(h * mask_ratio) // 2, int(w * mask_ratio) // 2
    mask = torch.ones((h, w), device=img.device)
    mask[h // 2 - mh:h // 2 + mh, w // 2 - mw:w // 2 + mw] = 0
    spectrum = torch.fft.ifftshift(spectrum * mask, dim=(-2, -1))
    return torch.fft.ifft2(spectrum, norm='forward').real.abs().to(img.dtype)


def _patch_conv(cin, cout, patch_size, stride):
    return nn.Conv2d(cin, cout, patch_size, stride=stride, padding=patch_size // 2)


def _tokens(x):
    return x.flatten(2).transpose(1, 2)


class ExplicitVisualPrompt(PEFTModule):
    """Explicit visual prompting: high-frequency components + embedding tuning.

    `Explicit Visual Prompting for Low-Level Structure Segmentations
    <https://arxiv.org/abs/2303.10883>`_ (Liu et al., CVPR 2023). Per stage, the
    prompt of block ``j`` is ``shared(mlp_j(tune(tokens) + hfc))``: ``tune`` is
    a linear down-projection of the stage's patch embedding (embedding tuning),
    ``hfc`` the stage-resolution embedding of the image's high-frequency
    components (handcrafted feature), ``mlp_j`` a light per-block
    linear+GELU and ``shared`` the stage's up-projection (zero-initialised here).

    Args:
        stage_dims (Sequence[int]): Width of each stage.
        depths (Sequence[int]): Blocks of each stage.
        patch_sizes (Sequence[int]): Patch-embedding kernels of the backbone.
        strides (Sequence[int]): Patch-embedding strides of the backbone.
        in_channels (int): Image channels. Default: 3.
        stages (Sequence[int]): Stages (0-based) that get prompts.
            Default: (0, 1, 2, 3).
        scale_factor (int): Stage width / prompt width. Default: 4.
        mask_ratio (float): Low-frequency square removed, see
            :func:`high_frequency_components`. Default: 0.25.
        init_cfg (dict, optional): mmcv init config. Default: None.
    """

    def __init__(self, stage_dims, depths, patch_sizes, strides, in_channels=3,
                 stages=(0, 1, 2, 3), scale_factor=4, mask_ratio=0.25, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if scale_factor < 1:
            raise ValueError(f'EVP: scale_factor must be >= 1, got {scale_factor}')
        self.stages = tuple(stages)
        self.mask_ratio = mask_ratio
        hidden = [max(1, c // scale_factor) for c in stage_dims]
        self.handcrafted = nn.ModuleList()
        self.handcrafted_norms = nn.ModuleList()
        self.embedding_tune = nn.ModuleList()
        self.block_mlps = nn.ModuleList()
        self.shared_mlps = nn.ModuleList()
        cin = in_channels
        for i, (c, h) in enumerate(zip(stage_dims, hidden)):
            self.handcrafted.append(_patch_conv(cin, h, patch_sizes[i], strides[i]))
            self.handcrafted_norms.append(nn.LayerNorm(h))
            self.embedding_tune.append(nn.Linear(c, h))
            self.block_mlps.append(nn.ModuleList(
                [nn.Sequential(nn.Linear(h, h), nn.GELU()) for _ in range(depths[i])]))
            self.shared_mlps.append(nn.Linear(h, c))
            cin = h
        self.reset_parameters()

    def reset_parameters(self):
        """Truncated-normal linears, zero shared up-projections."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                nn.init.zeros_(m.bias)
        for m in self.shared_mlps:
            nn.init.zeros_(m.weight)
        for m in self.handcrafted_norms:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def prepare(self, img):
        """Image unchanged; context: the handcrafted map of every stage."""
        x = high_frequency_components(img, self.mask_ratio)
        maps = []
        for conv, norm in zip(self.handcrafted, self.handcrafted_norms):
            x = conv(x)
            x = norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
            maps.append(x)
        return img, maps

    def stage_prompts(self, stage_idx, tokens, hw_shape, context):
        """One prompt per block of the stage (None for stages without prompts)."""
        if stage_idx not in self.stages:
            return [None] * len(self.block_mlps[stage_idx])
        feat = self.embedding_tune[stage_idx](tokens) + _tokens(context[stage_idx])
        shared = self.shared_mlps[stage_idx]
        return [shared(mlp(feat)) for mlp in self.block_mlps[stage_idx]]


class ConvolutionalVisualPrompt(PEFTModule):
    """Convolutional visual prompts: a kernel on the image and per-stage prompt maps.

    `Convolutional Visual Prompt for Robust Visual Perception
    <https://arxiv.org/abs/2303.00198>`_ (Tsai et al., NeurIPS 2023) adapts a
    frozen model at test time by a learnable convolution of the input
    (``img + conv(img)``, depth-wise, zero-initialised). Here a small
    convolutional generator also produces one prompt map per stage, added to the
    stage's tokens after its patch embedding through a zero-initialised 1x1
    projection.

    Args:
        stage_dims (Sequence[int]): Width of each stage.
        depths (Sequence[int]): Blocks of each stage.
        patch_sizes (Sequence[int]): Patch-embedding kernels of the backbone.
        strides (Sequence[int]): Patch-embedding strides of the backbone.
        in_channels (int): Image channels. Default: 3.
        stages (Sequence[int]): Stages (0-based) that get prompts.
            Default: (0, 1, 2, 3).
        kernel_size (int): Kernel of the input prompt (odd). Default: 3.
        hidden_dims (int): Channels of the prompt generator. Default: 32.
        init_cfg (dict, optional): mmcv init config. Default: None.
    """

    def __init__(self, stage_dims, depths, patch_sizes, strides, in_channels=3,
                 stages=(0, 1, 2, 3), kernel_size=3, hidden_dims=32, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'CVP: kernel_size must be odd and >= 1, got {kernel_size}')
        self.stages = tuple(stages)
        self.depths = tuple(depths)
        self.input_prompt = nn.Conv2d(in_channels, in_channels, kernel_size,
                                      padding=kernel_size // 2, groups=in_channels)
        self.generator = nn.ModuleList()
        self.projs = nn.ModuleList()
        cin = in_channels
        for i, c in enumerate(stage_dims):
            self.generator.append(nn.Sequential(
                _patch_conv(cin, hidden_dims, patch_sizes[i], strides[i]), nn.GELU()))
            self.projs.append(nn.Conv2d(hidden_dims, c, kernel_size=1))
            cin = hidden_dims
        self.reset_parameters()

    def reset_parameters(self):
        """Kaiming generator, zero input kernel and zero stage projections."""
        for m in self.generator.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
                nn.init.zeros_(m.bias)
        for m in [self.input_prompt, *self.projs]:
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def prepare(self, img):
        """Prompted image ``img + conv(img)``; context: generator map per stage."""
        img = img + self.input_prompt(img)
        maps, x = [], img
        for gen in self.generator:
            x = gen(x)
            maps.append(x)
        return img, maps

    def stage_prompts(self, stage_idx, tokens, hw_shape, context):
        """The stage's prompt before its first block (None for other blocks)."""
        prompts = [None] * self.depths[stage_idx]
        if stage_idx in self.stages:
            prompts[0] = _tokens(self.projs[stage_idx](context[stage_idx]))
        return prompts
