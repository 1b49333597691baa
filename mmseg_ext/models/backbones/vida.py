"""Visual domain adapters (ViDA) on the linears of a pretrained transformer.

`ViDA: Homeostatic Visual Domain Adapter for Continual Test Time Adaptation
<https://arxiv.org/abs/2306.04344>`_ (Liu et al., ICLR 2024): next to a frozen
linear ``W``, a low-rank branch (rank ``r_l`` much smaller than the width: keeps
domain-shared knowledge) and a high-rank branch (rank ``r_h`` larger than the
width: learns domain-specific knowledge) are added,
``y = W x + lambda_l * B_l A_l x + lambda_h * B_h A_h x``, with scales set per
sample from the teacher's uncertainty (:func:`vida_scales`). The up-projections
start at zero so the pretrained function is unchanged at step 0.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..utils.peft_module import PEFTModule

__all__ = ['ViDABranches', 'ViDALinear', 'set_vida_scales', 'vida_scales']


class ViDABranches(PEFTModule):
    """The low-rank and high-rank branches of one adapted linear.

    Args:
        in_features (int): Input width of the adapted linear.
        out_features (int): Output width of the adapted linear.
        low_rank (int): Rank of the low-rank branch. Default: 1.
        high_rank (int): Hidden width of the high-rank branch. Default: 128.
        low_scale (float): Default scale ``lambda_l`` when no per-sample scales
            are set. Default: 1.0.
        high_scale (float): Default scale ``lambda_h``. Default: 1.0.
        init_cfg (dict, optional): mmcv init config. Default: None.
    """

    def __init__(self, in_features, out_features, low_rank=1, high_rank=128,
                 low_scale=1., high_scale=1., init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if low_rank < 1 or high_rank < 1:
            raise ValueError(f'ViDA: low_rank and high_rank must be >= 1, got '
                             f'{low_rank} and {high_rank}')
        self.low_down = nn.Linear(in_features, low_rank, bias=False)
        self.low_up = nn.Linear(low_rank, out_features, bias=False)
        self.high_down = nn.Linear(in_features, high_rank, bias=False)
        self.high_up = nn.Linear(high_rank, out_features, bias=False)
        self.low_rank = low_rank
        self.high_rank = high_rank
        self.default_scales = (float(low_scale), float(high_scale))
        self.sample_scales = None
        self.reset_parameters()

    def reset_parameters(self):
        """ViDA init: normal down-projections (std 1/rank), zero up-projections."""
        nn.init.normal_(self.low_down.weight, std=1. / self.low_rank)
        nn.init.normal_(self.high_down.weight, std=1. / self.high_rank)
        nn.init.zeros_(self.low_up.weight)
        nn.init.zeros_(self.high_up.weight)

    def _scale(self, scale, x):
        if isinstance(scale, torch.Tensor) and scale.dim() == 1:
            if scale.shape[0] != x.shape[0]:
                raise ValueError(f'ViDA: {scale.shape[0]} per-sample scales for a '
                                 f'batch of {x.shape[0]}')
            return scale.to(device=x.device, dtype=x.dtype).view(
                -1, *([1] * (x.dim() - 1)))
        return scale

    def forward(self, x):
        """Returns ``lambda_l * low(x) + lambda_h * high(x)``."""
        low_scale, high_scale = self.sample_scales or self.default_scales
        low = self.low_up(self.low_down(x))
        high = self.high_up(self.high_down(x))
        return self._scale(low_scale, x) * low + self._scale(high_scale, x) * high


class ViDALinear(nn.Linear):
    """An ``nn.Linear`` with ViDA branches; its own parameters keep their names.

    Build it from a pretrained linear with :meth:`from_linear`: ``weight`` and
    ``bias`` stay where checkpoints expect them, the adapters live under
    ``.vida``.

    Args:
        in_features (int): Input width.
        out_features (int): Output width.
        bias (bool): Whether the linear has a bias. Default: True.
        vida_cfg (dict, optional): Keyword arguments of :class:`ViDABranches`.
            Default: None (its defaults).
    """

    def __init__(self, in_features, out_features, bias=True, vida_cfg=None):
        super().__init__(in_features, out_features, bias=bias)
        self.vida = ViDABranches(in_features, out_features, **(vida_cfg or {}))

    @classmethod
    def from_linear(cls, linear, vida_cfg=None):
        """Wraps ``linear`` (sharing its parameters) with ViDA branches."""
        if not isinstance(linear, nn.Linear):
            raise TypeError(f'ViDA adapts nn.Linear layers, got {type(linear).__name__}')
        new = cls(linear.in_features, linear.out_features, linear.bias is not None,
                  vida_cfg=vida_cfg).to(linear.weight.device)
        new.weight = linear.weight
        new.bias = linear.bias
        return new

    def forward(self, x):
        out = F.linear(x, self.weight, self.bias)
        if self.vida.enabled:
            out = out + self.vida(x)
        return out


def set_vida_scales(module, low=None, high=None):
    """Sets (or with None, clears) the per-sample scales of every ViDA branch.

    Args:
        module (nn.Module): The network.
        low (Tensor | float, optional): ``lambda_l``, a float or a tensor (B,)
            with one scale per sample of the next batch. Default: None.
        high (Tensor | float, optional): ``lambda_h``, same form. Default: None.

    Returns:
        int: Number of ViDA branches updated.
    """
    if (low is None) != (high is None):
        raise ValueError('set_vida_scales: give both low and high scales, or neither')
    count = 0
    for sub in module.modules():
        if isinstance(sub, ViDABranches):
            sub.sample_scales = None if low is None else (low, high)
            count += 1
    return count


def vida_scales(uncertainty, threshold=0.2):
    """Homeostatic scales of ViDA from the teacher's per-sample uncertainty.

    ``lambda_h = 1 + (u - threshold)`` and ``lambda_l = 1 - (u - threshold)``:
    uncertain (out-of-distribution) samples lean on the domain-specific
    high-rank branch, confident ones on the domain-shared low-rank branch.

    Args:
        uncertainty (Tensor): (B,) uncertainty of each sample, e.g. the variance
            of the teacher's predictions under augmentations.
        threshold (float): Uncertainty at which both branches weigh 1.
            Default: 0.2.

    Returns:
        tuple[Tensor, Tensor]: ``(lambda_l, lambda_h)``, each (B,).
    """
    delta = uncertainty.detach() - threshold
    return 1. - delta, 1. + delta
