"""Plain encoder-decoder of the non-modular baselines (TENT, CoTTA)."""
from mmseg.models.builder import SEGMENTORS

from .custom_encoder_decoder import CustomEncoderDecoder

__all__ = ['OthersEncoderDecoder']


@SEGMENTORS.register_module()
class OthersEncoderDecoder(CustomEncoderDecoder):
    """The segmentor of the baselines that adapt a whole, non-modular model.

    HAMLET runs TENT (Wang et al., ICLR 2021) and CoTTA (Wang et al., CVPR 2022)
    on a plain encoder-decoder: one module, no early exits, no
    ``train_from_module``. It is :class:`CustomEncoderDecoder` (mmseg's
    ``EncoderDecoder`` plus per-pixel weights, returned features and
    ``init_from``), so a config switches to it by ``type`` alone; the name says
    in the config which kind of model a baseline adapts. Arguments are those of
    :class:`CustomEncoderDecoder`.
    """
