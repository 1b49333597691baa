from .custom_encoder_decoder import CustomEncoderDecoder
from .modular_encoder_decoder import ModularEncoderDecoder
from .others_encoder_decoder import OthersEncoderDecoder

__all__ = ['CustomEncoderDecoder', 'ModularEncoderDecoder', 'OthersEncoderDecoder']
