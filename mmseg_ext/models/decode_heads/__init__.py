from .modular_segformer_head import ModularSegFormerHead
from .original_segformer_head import OriginalSegFormerHead
from .segformer_skip_head import SegformerSkipHead

__all__ = ['ModularSegFormerHead', 'OriginalSegFormerHead', 'SegformerSkipHead']
