"""TENT: fully test-time adaptation by entropy minimisation."""
import torch.nn as nn

from ..builder import UDA
from .uda_decorator import UDADecorator, batch_norms, softmax_entropy

__all__ = ['TENT']

#: Normalisation layers whose affine parameters TENT adapts.
NORM_LAYERS = (nn.LayerNorm, nn.modules.batchnorm._BatchNorm, nn.GroupNorm)


@UDA.register_module()
class TENT(UDADecorator):
    """Entropy minimisation on the target, updating only norm affine parameters.

    Wang et al., ICLR 2021 (https://arxiv.org/abs/2006.10726): one gradient step
    per target batch on the mean per-pixel prediction entropy; every parameter
    except the weight and bias of LayerNorm/BatchNorm/GroupNorm layers is frozen;
    batch-norm layers normalise with the batch statistics. No source data.

    Args:
        use_batch_stats (bool): batch-norm layers normalise with the statistics
            of the target batch (TENT), not their running estimates.
            Default: True.
        **kwargs: :class:`UDADecorator` arguments.
    """

    def __init__(self, model, use_batch_stats=True, **kwargs):
        super().__init__(model, **kwargs)
        self.use_batch_stats = use_batch_stats
        norm_params = set()
        for module in self.model.modules():
            if isinstance(module, NORM_LAYERS):
                norm_params.update(id(p) for p in module.parameters(recurse=False))
        if not norm_params:
            raise ValueError(f'TENT: segmentor {type(self.model).__name__} has no '
                             f'LayerNorm/BatchNorm/GroupNorm affine parameter to adapt')
        for param in self.model.parameters():
            param.requires_grad_(param.requires_grad and id(param) in norm_params)
        if not any(p.requires_grad for p in self.model.parameters()):
            raise ValueError('TENT: freezing left no norm parameter trainable '
                             '(check freeze_backbone/trainable_keys)')
        self.init_ewc()

    def train(self, mode=True):
        super().train(mode)
        if mode and not self.use_batch_stats:
            for module in batch_norms(self.model):
                module.eval()
        return self

    def adapt(self, data_batch, log_vars, **step_kwargs):
        """One entropy-minimisation step on ``target_img``."""
        logits = self.get_model().encode_decode(data_batch['target_img'],
                                                data_batch['target_img_metas'])
        self.backward(softmax_entropy(logits).mean(), 'entropy', log_vars)
        return log_vars
