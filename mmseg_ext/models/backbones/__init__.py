from .mix_transformer import MixTransformer
from .mix_transformer_adapter import MixTransformerAdapter
from .swin_transformer_adapter import SwinTransformerAdapter

__all__ = ['MixTransformer', 'MixTransformerAdapter', 'SwinTransformerAdapter']
