"""The frozen source model as a domain signal (HAMLET's domain indicator).

HAMLET (Colomer et al., ICCV 2023, arXiv:2307.15063, Sec. 3.3) watches the
cross-entropy of a frozen copy of the source model (its lightweight module-1
decoder) against the adapting model's prediction: it rises when the domain moves
away from the source. The method builds it (``UDADecorator.make_reference``), the
online controller feeds its value to the detector and keeps its state.
"""
import copy
import inspect

import torch
import torch.nn.functional as F
from mmcv.runner.checkpoint import weights_to_cpu

from ..utils.trainable import set_trainable

__all__ = ['FrozenReference']


class FrozenReference:
    """A frozen copy of a segmentor; its loss against a prediction is the signal.

    Args:
        segmentor (nn.Module): copied now (eval mode, no gradients).
        module (int | None): the module the copy decodes from (``encode_decode(...,
            module=k)`` of a ``ModularEncoderDecoder``); None: its full output.
            Default: None.
    """

    def __init__(self, segmentor, module=None):
        if module is not None and 'module' not in inspect.signature(
                segmentor.encode_decode).parameters:
            raise ValueError(
                f'controller.detector.reference_module={module} needs a segmentor that '
                f'decodes from a module (ModularEncoderDecoder with a decoder there); '
                f'{type(segmentor).__name__} has none: set it to None')
        self.module = module
        self.model = copy.deepcopy(segmentor).eval()
        set_trainable(self.model, 'none')

    @torch.no_grad()
    def loss(self, img, img_metas, pred):
        """float: cross-entropy of the copy's logits on ``img`` against ``pred``
        (``[N, H, W]`` class indices, the adapting model's prediction)."""
        kwargs = {} if self.module is None else dict(module=self.module)
        logits = self.model.encode_decode(img, img_metas, **kwargs)
        return float(F.cross_entropy(logits, pred.to(logits.device)))

    def state_dict(self):
        """dict: the copy's weights, on the CPU."""
        return weights_to_cpu(self.model.state_dict())

    def load_state_dict(self, state):
        """Restores :meth:`state_dict`."""
        self.model.load_state_dict(state)
