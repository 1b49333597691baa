from .custom_encoder_decoder import CustomEncoderDecoder
from .modular_encoder_decoder import ModularEncoderDecoder

__all__ = ['CustomEncoderDecoder', 'ModularEncoderDecoder']
