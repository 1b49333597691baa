"""Encoder-decoder with the training extras of the UDA line (DAFormer, HAMLET)."""
import torch.nn as nn
from mmseg.core import add_prefix
from mmseg.models.builder import SEGMENTORS
from mmseg.models.losses import accuracy
from mmseg.models.segmentors import EncoderDecoder
from mmseg.ops import resize

__all__ = ['CustomEncoderDecoder', 'weighted_head_losses', 'weighted_decode_losses']


@SEGMENTORS.register_module()
class CustomEncoderDecoder(EncoderDecoder):
    """mmseg's ``EncoderDecoder`` plus per-pixel loss weights and returned features.

    The adaptation methods of DAFormer (Hoyer et al., CVPR 2022) weight the
    pseudo-label loss pixel by pixel (``seg_weight``) and read the encoder
    features for the feature distance (``return_feat``). Inference, ``simple_test``
    and ``aug_test`` are mmseg's, so mmseg's test code and eval hooks run
    unchanged. ``init_weights`` can start the encoder and/or the decoder from a
    SegFormer checkpoint of any known layout (NVlabs, mmseg, HAMLET, project).

    Args:
        init_from (str, optional): checkpoint read by ``init_weights`` (converted
            with :func:`mmseg_ext.models.utils.convert_state_dict`). Default: None.
        init_parts (Sequence[str]): what to take from it: 'encoder' and/or
            'decoder' (the decoder-from-pretrained switch).
            Default: ('encoder', 'decoder').
        init_layout (str): its key layout, or 'auto'. Default: 'auto'.
        **kwargs: :class:`mmseg.models.EncoderDecoder` arguments.
    """

    def __init__(self, init_from=None, init_parts=('encoder', 'decoder'),
                 init_layout='auto', **kwargs):
        super().__init__(**kwargs)
        check_head_channels(self.backbone, self.decode_head, type(self).__name__)
        from ..utils.weight_conversion import LAYOUTS, PARTS
        if not init_parts or any(p not in PARTS for p in init_parts):
            raise ValueError(f'{type(self).__name__}: init_parts {tuple(init_parts)} must '
                             f'be a non-empty subset of {PARTS}')
        if init_layout not in LAYOUTS:
            raise ValueError(f'{type(self).__name__}: init_layout {init_layout!r} must be '
                             f'one of {LAYOUTS}')
        self.init_from = init_from
        self.init_parts = tuple(init_parts)
        self.init_layout = init_layout

    def init_weights(self):
        """mmseg's initialisation, then the ``init_parts`` of ``init_from``."""
        super().init_weights()
        if self.init_from is not None:
            from mmcv.utils import get_logger

            from ...core import load_checkpoint_file
            from ..utils.weight_conversion import convert_state_dict, load_converted
            state_dict, _ = convert_state_dict(load_checkpoint_file(self.init_from),
                                               self.init_layout, self.init_parts)
            load_converted(self, state_dict, logger=get_logger('mmseg'))

    def forward_train(self, img, img_metas, gt_semantic_seg, seg_weight=None,
                      return_feat=False):
        """Losses of a labelled (or pseudo-labelled) batch.

        Args:
            img (Tensor): images ``(N, C, H, W)``.
            img_metas (list[dict]): image infos.
            gt_semantic_seg (Tensor): labels ``(N, 1, H, W)``.
            seg_weight (Tensor, optional): per-pixel loss weights ``(N, H, W)``.
                Default: None.
            return_feat (bool): put the encoder features under ``'features'``.
                Default: False.

        Returns:
            dict: losses (and ``features`` when asked).
        """
        x = self.extract_feat(img)
        return self._losses_from_feat(x, img_metas, gt_semantic_seg, seg_weight,
                                      return_feat)

    def _losses_from_feat(self, x, img_metas, gt_semantic_seg, seg_weight, return_feat,
                          **head_kwargs):
        losses = dict()
        if return_feat:
            losses['features'] = x
        losses.update(weighted_head_losses(self, x, gt_semantic_seg, seg_weight,
                                           **head_kwargs))
        return losses


def check_head_channels(backbone, head, owner):
    """Raises when the head's ``in_channels`` are not the backbone's stage widths.

    Checked when the backbone lists its widths (``embed_dims`` as a sequence and
    ``out_indices``, as ``MixTransformer`` does) and the head selects inputs by
    ``in_index`` (mmseg's multiple-select heads).
    """
    widths = getattr(backbone, 'embed_dims', None)
    out_indices = getattr(backbone, 'out_indices', None)
    in_channels = getattr(head, 'in_channels', None)
    in_index = getattr(head, 'in_index', None)
    if not isinstance(widths, (list, tuple)) or out_indices is None \
            or not isinstance(in_channels, (list, tuple)) \
            or not isinstance(in_index, (list, tuple)):
        return
    outs = [widths[i] for i in out_indices]
    if any(i >= len(outs) for i in in_index):
        raise ValueError(f'{owner}: decode_head.in_index {list(in_index)} selects more '
                         f'than the {len(outs)} backbone outputs (out_indices '
                         f'{list(out_indices)})')
    expected = [outs[i] for i in in_index]
    if list(in_channels) != expected:
        raise ValueError(f'{owner}: decode_head.in_channels {list(in_channels)} do not '
                         f'match the backbone outputs {expected} (embed_dims '
                         f'{list(widths)}); use the model file of one size, '
                         f'configs/_base_/models/segformer_mit-b*.py')


def weighted_head_losses(segmentor, x, seg_label, seg_weight=None, **head_kwargs):
    """Decode and auxiliary head losses of an mmseg encoder-decoder, every head
    weighted by the same per-pixel ``seg_weight`` (DAFormer's pseudo-label weight).

    The one weighted-loss path of the project: :class:`CustomEncoderDecoder` (and
    its subclasses) and :meth:`UDADecorator.seg_losses` for mmseg's
    ``EncoderDecoder`` both call it. Keys as mmseg's: ``decode.*``, ``aux.*`` (one
    auxiliary head) or ``aux_{i}.*`` (a list of them).

    Args:
        segmentor (EncoderDecoder): the model whose heads apply.
        x (list[Tensor]): its encoder features.
        seg_label (Tensor): ``(N, 1, H, W)`` labels.
        seg_weight (Tensor, optional): ``(N, H, W)`` pixel weights. Default: None.
        **head_kwargs: passed to the decode head's forward (modular decoding).
    """
    losses = add_prefix(weighted_decode_losses(
        segmentor.decode_head, segmentor.decode_head(x, **head_kwargs), seg_label,
        seg_weight), 'decode')
    if segmentor.with_auxiliary_head:
        heads = segmentor.auxiliary_head
        many = isinstance(heads, nn.ModuleList)
        for idx, head in enumerate(heads if many else [heads]):
            losses.update(add_prefix(weighted_decode_losses(
                head, head(x), seg_label, seg_weight), f'aux_{idx}' if many else 'aux'))
    return losses


def weighted_decode_losses(head, seg_logits, seg_label, seg_weight=None):
    """The losses of ``head.losses`` with extra per-pixel weights.

    Args:
        head (BaseDecodeHead): the head whose ``loss_decode`` and sampler apply.
        seg_logits (Tensor): ``(N, K, h, w)``.
        seg_label (Tensor): ``(N, 1, H, W)``.
        seg_weight (Tensor, optional): ``(N, H, W)``, multiplied with the
            sampler's weights. Default: None.
    """
    if seg_weight is None:
        return head.losses(seg_logits, seg_label)
    seg_logits = resize(seg_logits, size=seg_label.shape[2:], mode='bilinear',
                        align_corners=head.align_corners)
    if seg_weight.shape[-2:] != seg_label.shape[2:]:
        raise ValueError(f'seg_weight has spatial shape {tuple(seg_weight.shape[-2:])}, '
                         f'expected the label shape {tuple(seg_label.shape[2:])}')
    if head.sampler is not None:
        seg_weight = seg_weight * head.sampler.sample(seg_logits, seg_label)
    seg_label = seg_label.squeeze(1)
    losses_decode = head.loss_decode
    if not isinstance(losses_decode, nn.ModuleList):
        losses_decode = [losses_decode]
    loss = dict()
    for loss_decode in losses_decode:
        value = loss_decode(seg_logits, seg_label, weight=seg_weight,
                            ignore_index=head.ignore_index)
        loss[loss_decode.loss_name] = loss.get(loss_decode.loss_name, 0) + value
    loss['acc_seg'] = accuracy(seg_logits, seg_label, ignore_index=head.ignore_index)
    return loss
