"""Plain encoder-decoder of the non-modular baselines (TENT, CoTTA)."""
from mmseg.models.builder import SEGMENTORS
from mmseg.models.segmentors import EncoderDecoder

__all__ = ['OthersEncoderDecoder']


@SEGMENTORS.register_module()
class OthersEncoderDecoder(EncoderDecoder):
    """mmseg's ``EncoderDecoder`` as the baselines use it, under HAMLET's name.

    HAMLET runs TENT (Wang et al., ICLR 2021) and CoTTA (Wang et al., CVPR 2022)
    on a plain segmentor: one module, no per-pixel weights, no early exits.
    Keeping the name lets their configs say which kind of model they adapt; the
    behaviour is exactly mmseg's. Arguments are those of
    :class:`mmseg.models.EncoderDecoder`.
    """
