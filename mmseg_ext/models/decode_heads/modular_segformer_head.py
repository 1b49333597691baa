"""SegFormer head with early exits: HAMLET's lightweight decoders."""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.builder import HEADS

from .original_segformer_head import OriginalSegFormerHead

__all__ = ['ModularSegFormerHead']


@HEADS.register_module()
class ModularSegFormerHead(OriginalSegFormerHead):
    """:class:`OriginalSegFormerHead` that can also decode from an intermediate module.

    HAMLET (Colomer et al., "To Adapt or Not to Adapt? Real-Time Adaptation for
    Semantic Segmentation", ICCV 2023) decodes from module ``k`` (the encoder cut
    after stage ``k``) with a lightweight decoder: the same per-scale linears of
    stages ``1..k``, an own fuse (``k * channels -> channels``) and an own
    classifier. Module ``len(in_channels)`` is the full head. HAMLET checkpoints
    hold the module-1 decoder as ``linear_fuse_m1``/``linear_pred_m1``, which
    :func:`mmseg_ext.models.utils.convert_state_dict` maps to
    ``exit_fuses.1``/``exit_preds.1``.

    Args:
        exit_modules (Sequence[int]): intermediate modules (1-based, below the
            last) that get a lightweight decoder. Default: (1,).
        **kwargs: :class:`OriginalSegFormerHead` arguments.
    """

    def __init__(self, exit_modules=(1,), **kwargs):
        super().__init__(**kwargs)
        self.num_modules = len(self.in_channels)
        if not all(isinstance(k, int) and 1 <= k < self.num_modules for k in exit_modules):
            raise ValueError(f'ModularSegFormerHead: exit_modules {tuple(exit_modules)} '
                             f'must be modules in 1..{self.num_modules - 1}')
        self.exit_modules = tuple(sorted(exit_modules))
        self.exit_fuses = nn.ModuleDict({
            str(k): ConvModule(self.channels * k, self.channels, kernel_size=1,
                               norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
            for k in self.exit_modules})
        self.exit_preds = nn.ModuleDict({
            str(k): nn.Conv2d(self.channels, self.num_classes, kernel_size=1)
            for k in self.exit_modules})

    def forward(self, inputs, module=None):
        """Logits decoded from ``module`` (the full head when None or the last).

        Args:
            inputs (list[Tensor]): stage features (at least ``module`` of them).
            module (int, optional): module to decode from. Default: None.
        """
        if module is None or module == self.num_modules:
            return super().forward(inputs)
        if module not in self.exit_modules:
            raise ValueError(f'ModularSegFormerHead: no decoder for module {module}; '
                             f'exit_modules are {self.exit_modules} and the full head '
                             f'is module {self.num_modules}')
        inputs = [inputs[i] for i in self.in_index[:module]]
        out = self.exit_fuses[str(module)](self.embed(inputs, module))
        if self.dropout is not None:
            out = self.dropout(out)
        return self.exit_preds[str(module)](out)

    def forward_test(self, inputs, img_metas, test_cfg, module=None):
        """mmseg's test entry, with the module to decode from."""
        return self.forward(inputs, module)
