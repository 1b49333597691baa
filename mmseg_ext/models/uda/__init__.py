from .cotta import CoTTA
from .dacs import DACS
from .ewc import EWCPenalty
from .reference import FrozenReference
from .source_only import SourceOnly
from .tent import TENT
from .uda_decorator import UDADecorator

__all__ = ['UDADecorator', 'SourceOnly', 'DACS', 'TENT', 'CoTTA', 'EWCPenalty',
           'FrozenReference']
