"""Encoder-decoder cut into modules: HAMLET's modular training and early exits."""
import inspect

from mmseg.models.builder import SEGMENTORS
from mmseg.ops import resize

from .custom_encoder_decoder import CustomEncoderDecoder

__all__ = ['ModularEncoderDecoder']


@SEGMENTORS.register_module()
class ModularEncoderDecoder(CustomEncoderDecoder):
    """Encoder-decoder whose encoder runs module by module (HAMLET, ICCV 2023).

    Module ``k`` is encoder stage ``k`` (numbered from 1). Two things follow:

    * decoding from module ``k``: stages ``1..k`` run and the head decodes there
      (``decode_module``; needs a head with early exits such as
      ``ModularSegFormerHead`` for ``k`` below the last module);
    * modular training: ``forward_train(..., train_from_module=k)`` runs stages
      ``1..k-1`` without autograd, so only modules ``k..last`` and the head get
      gradients (HAMLET's back-propagation from module ``k``), cutting the cost
      of the backward pass.

    Inference (``simple_test``/``aug_test``, mmseg's test code) decodes from
    ``decode_module``.

    Args:
        decode_module (int, optional): module the deployed model decodes from;
            None means the last. Default: None.
        **kwargs: :class:`CustomEncoderDecoder` arguments. The backbone must offer
            ``forward(x, num_modules, train_from_module)``, ``forward_stage`` and
            ``num_stages`` (``MixTransformer``).
    """

    def __init__(self, decode_module=None, **kwargs):
        super().__init__(**kwargs)
        self.check_backbone(self.backbone)
        self.num_modules = self.backbone.num_stages
        self.decode_module = self._check_module(
            self.num_modules if decode_module is None else decode_module, 'decode_module')
        self._head_kwargs(self.decode_module)

    def _check_module(self, module, what):
        if not isinstance(module, int) or not 1 <= module <= self.num_modules:
            raise ValueError(f'ModularEncoderDecoder: {what} must be a module in '
                             f'1..{self.num_modules}, got {module!r}')
        return module

    def _head_kwargs(self, module):
        if module == self.num_modules:
            return {}
        if module not in getattr(self.decode_head, 'exit_modules', ()):
            raise ValueError(f'ModularEncoderDecoder: decode_head '
                             f'{type(self.decode_head).__name__} cannot decode from '
                             f'module {module}; use ModularSegFormerHead with {module} '
                             f'in exit_modules')
        return dict(module=module)

    @staticmethod
    def check_backbone(backbone):
        """Raises unless ``backbone`` runs stage-wise and takes the module cut."""
        for attr in ('forward_stage', 'num_stages', 'out_indices'):
            if not hasattr(backbone, attr):
                raise TypeError(f'ModularEncoderDecoder: backbone '
                                f'{type(backbone).__name__} has no {attr!r}; it '
                                f'needs a stage-wise backbone such as MixTransformer')
        if 'train_from_module' not in inspect.signature(backbone.forward).parameters:
            raise TypeError(f'ModularEncoderDecoder: {type(backbone).__name__}.forward '
                            f'takes no train_from_module (modular training runs the '
                            f'modules before it without autograd)')

    def extract_feat(self, img, module=None, train_from_module=1):
        """Stage outputs of modules ``1..module``.

        Args:
            img (Tensor): images.
            module (int, optional): last module to run; None is ``decode_module``.
                Default: None.
            train_from_module (int): first module that records gradients, passed
                to ``backbone.forward`` (which runs the modules before it without
                autograd). Default: 1.
        """
        module = self.decode_module if module is None else module
        outs = self.backbone(img, num_modules=module, train_from_module=train_from_module)
        if self.with_neck:
            outs = self.neck(outs)
        return outs

    def encode_decode(self, img, img_metas, module=None):
        """Logits at image size, decoded from ``module`` (None: ``decode_module``)."""
        module = self.decode_module if module is None else module
        x = self.extract_feat(img, module)
        out = self.decode_head(x, **self._head_kwargs(module))
        return resize(out, size=img.shape[2:], mode='bilinear',
                      align_corners=self.align_corners)

    def forward_train(self, img, img_metas, gt_semantic_seg, seg_weight=None,
                      return_feat=False, train_from_module=1, module=None):
        """Losses, with gradients only for modules ``train_from_module..`` and the head.

        Args:
            img (Tensor): images ``(N, C, H, W)``.
            img_metas (list[dict]): image infos.
            gt_semantic_seg (Tensor): labels ``(N, 1, H, W)``.
            seg_weight (Tensor, optional): per-pixel loss weights. Default: None.
            return_feat (bool): return the features too. Default: False.
            train_from_module (int): first module that receives gradients. Default: 1.
            module (int, optional): module to decode from; None is
                ``decode_module``. Default: None.
        """
        module = self._check_module(self.decode_module if module is None else module,
                                    'module')
        self._check_module(train_from_module, 'train_from_module')
        if train_from_module > module:
            raise ValueError(f'ModularEncoderDecoder: train_from_module '
                             f'{train_from_module} is after the decoded module {module}')
        x = self.extract_feat(img, module, train_from_module)
        return self._losses_from_feat(x, img_metas, gt_semantic_seg, seg_weight,
                                      return_feat, **self._head_kwargs(module))
