"""Base class of the parameter-efficient modules added to a pretrained backbone."""
from mmcv.runner import BaseModule


class PEFTModule(BaseModule):
    """A module that adds a learnable correction to a pretrained network.

    Every parameter-efficient module of this package (AdaptFormer adapters,
    ViT-Adapter spatial prior and injectors, ViDA branches, visual prompts)
    derives from it, so a model can be reduced to its plain pretrained function
    by switching them off (:func:`mmseg_ext.models.utils.set_peft_enabled`),
    e.g. for a frozen reference model that must not mirror the student's
    adapters. A disabled module contributes nothing; the code that calls it
    checks :attr:`enabled` and skips it. Subclasses initialise their parameters
    in :meth:`reset_parameters` so that the pretrained function is unchanged
    at step 0; the owning backbone calls it again after its own weight init.

    Args:
        init_cfg (dict, optional): mmcv initialisation config. Default: None.
    """

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.enabled = True

    def reset_parameters(self):
        """Initialises the parameters (zero correction at step 0)."""
        raise NotImplementedError(
            f'{type(self).__name__} must implement reset_parameters()')
