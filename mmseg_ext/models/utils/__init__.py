from . import dacs_transforms
from .freeze import (REFERENCE_MODES, freeze, make_reference_model, set_peft_enabled,
                     trainable_parameters, unfreeze)
from .peft_module import PEFTModule
from .trainable import TRAINABLE_MODES, apply_freeze_backbone, set_trainable
from .weight_conversion import (LAYOUTS, PARTS, convert_checkpoint_file,
                                convert_state_dict, detect_layout, encoder_to_mmseg,
                                key_report, load_converted, load_pretrained_encoder)

__all__ = ['dacs_transforms', 'REFERENCE_MODES', 'freeze', 'make_reference_model', 'set_peft_enabled',
           'trainable_parameters', 'unfreeze', 'PEFTModule', 'TRAINABLE_MODES',
           'apply_freeze_backbone', 'set_trainable',
           'LAYOUTS', 'PARTS', 'convert_checkpoint_file', 'convert_state_dict',
           'detect_layout', 'encoder_to_mmseg', 'key_report', 'load_converted',
           'load_pretrained_encoder']
