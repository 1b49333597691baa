"""mmseg's Swin Transformer with AdaptFormer adapters and the freezing config keys.

`Swin Transformer <https://arxiv.org/abs/2103.14030>`_ (Liu et al., ICCV 2021)
is used unchanged (mmseg's ``SwinTransformer``, same parameter names, same
checkpoints); this subclass only adds what the MiT adapter family has:
AdaptFormer adapters (`AdaptFormer <https://arxiv.org/abs/2205.13535>`_) in
parallel to the FFN of every block of the ``adapt_blocks`` stages, and
``freeze_backbone`` / ``trainable_keys``. Each adapter lives under its block's
FFN (``stages.2.blocks.0.ffn.adapter``) and joins through a forward hook of
that FFN, ``ffn(LN(x), identity=x) + adapter(x)``, since mmseg builds the blocks
inside the stages with no hook of its own.
"""
from mmseg.models.backbones import SwinTransformer
from mmseg.models.builder import BACKBONES

from ..utils.peft_module import PEFTModule
from ..utils.trainable import apply_freeze_backbone
from .adaptformer import Adapter

__all__ = ['SwinTransformerAdapter']


def _ffn_adapter_hook(ffn, args, kwargs, output):
    """Adds the adapter's correction of the block's residual input (``identity``)."""
    if not ffn.adapter.enabled:
        return output
    identity = kwargs['identity'] if 'identity' in kwargs else args[1]
    return output + ffn.adapter(identity)


@BACKBONES.register_module()
class SwinTransformerAdapter(SwinTransformer):
    """Swin Transformer with AdaptFormer adapters and a config-driven freeze.

    Args:
        adapt_blocks (Sequence[int]): Stages (0-based) whose blocks get an
            adapter. Default: ().
        adapter_cfg (dict): :class:`Adapter` settings (each adapter takes its
            stage's width). Default: dict(bottleneck_ratio=0.25, scale=0.1,
            learnable_scale=False, dropout=0.1, act_cfg=dict(type='ReLU')).
        freeze_backbone (bool): Freeze the backbone except the parameters whose
            name contains one of ``trainable_keys``. Default: False.
        trainable_keys (Sequence[str]): e.g. ('adapter',). Default: ().
        **kwargs: Arguments of mmseg's ``SwinTransformer``.
    """

    def __init__(self,
                 adapt_blocks=(),
                 adapter_cfg=dict(bottleneck_ratio=0.25, scale=0.1,
                                  learnable_scale=False, dropout=0.1,
                                  act_cfg=dict(type='ReLU')),
                 freeze_backbone=False,
                 trainable_keys=(),
                 **kwargs):
        super().__init__(**kwargs)
        num_stages = len(self.stages)
        if not all(isinstance(s, int) and 0 <= s < num_stages for s in adapt_blocks):
            raise ValueError(f'SwinTransformerAdapter: adapt_blocks {tuple(adapt_blocks)} '
                             f'must be stages in 0..{num_stages - 1} (the backbone has '
                             f'{num_stages} stages)')
        self.adapt_blocks = tuple(adapt_blocks)
        for s in self.adapt_blocks:
            for block in self.stages[s].blocks:
                block.ffn.adapter = Adapter(block.ffn.embed_dims, **adapter_cfg)
                block.ffn.register_forward_hook(_ffn_adapter_hook, with_kwargs=True)
        self.freeze_backbone = freeze_backbone
        self.trainable_keys = apply_freeze_backbone(
            self, freeze_backbone, trainable_keys, 'SwinTransformerAdapter',
            'model.backbone.trainable_keys')

    def init_weights(self):
        """Swin's init; after a random init, the adapters' zero init again."""
        super().init_weights()
        if self.init_cfg is None:
            for m in self.modules():
                if isinstance(m, PEFTModule):
                    m.reset_parameters()
