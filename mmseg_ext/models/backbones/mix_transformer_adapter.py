"""MiT with parameter-efficient modules for online adaptation of a frozen backbone.

Adds to :class:`MixTransformer`, each selected from config alone and each
initialised so that the pretrained function is unchanged at step 0:

* AdaptFormer adapters in the blocks of ``adapt_blocks`` stages
  (:class:`~.adaptformer.Adapter`, in parallel to the Mix-FFN);
* the ViT-Adapter spatial prior module and injectors into ``injector_stages``
  (:mod:`.vit_adapter_modules`), optionally returning the stem's stride-4
  features as an extra output (``out_stem``) for a skip decoder or an
  auxiliary classifier;
* ViDA low/high-rank branches on the attention linears of ``vida_stages``
  (:mod:`.vida`);
* visual prompts, EVP or CVP (:mod:`.visual_prompts`);
* ``freeze_backbone`` / ``trainable_keys``: everything frozen but the named
  modules (:func:`mmseg_ext.models.utils.apply_freeze_backbone`).
"""
import copy
import functools

import torch
import torch.nn as nn
from mmseg.models.builder import BACKBONES

from ..utils.trainable import apply_freeze_backbone
from ..utils.peft_module import PEFTModule
from .adaptformer import Adapter
from .mix_transformer import MiTBlock, MixTransformer
from .vida import ViDALinear
from .visual_prompts import ConvolutionalVisualPrompt, ExplicitVisualPrompt
from .vit_adapter_modules import Injector, SpatialPriorModule

__all__ = ['MixTransformerAdapter']

PROMPTS = {'evp': ExplicitVisualPrompt, 'cvp': ConvolutionalVisualPrompt}


class MiTAdapterBlock(MiTBlock):
    """MiT block with an AdaptFormer adapter in parallel to its Mix-FFN.

    ``x = x + attn(LN(x)); x = x + FFN(LN(x)) + adapter(x)``.

    Args:
        adapter_cfg (dict): Keyword arguments of :class:`Adapter` but
            ``embed_dims`` (the block's width).
        **kwargs: Arguments of :class:`MiTBlock`.
    """

    def __init__(self, adapter_cfg, **kwargs):
        super().__init__(**kwargs)
        self.adapter = Adapter(kwargs['dim'], **adapter_cfg)

    def add_parallel(self, out, x):
        return out + self.adapter(x) if self.adapter.enabled else out


@BACKBONES.register_module()
class MixTransformerAdapter(MixTransformer):
    """Mix Transformer with adapters, ViT-Adapter injectors, ViDA and visual prompts.

    Stages are 0-based here (as ``out_indices``). With every option at its
    default the model is exactly :class:`MixTransformer`.

    Args:
        adapt_blocks (Sequence[int]): Stages whose blocks get an AdaptFormer
            adapter, e.g. (2, 3) "half", (0, 1, 2, 3) "full". Default: ().
        adapter_cfg (dict): :class:`Adapter` settings shared by all stages
            (each adapter takes its stage's width). Default:
            dict(bottleneck_ratio=0.25, scale=0.1, learnable_scale=False,
            dropout=0.1, act_cfg=dict(type='ReLU')).
        injector_stages (Sequence[int]): Stages whose tokens, right after the
            patch embedding, receive the spatial prior through an injector.
            Non-empty builds the spatial prior module. Default: ().
        spatial_prior_cfg (dict): :class:`SpatialPriorModule` settings.
            Default: dict(inplanes=64, embed_dims=64, norm_cfg=dict(type='BN')).
        injector_cfg (dict): ``levels`` (spatial-prior levels 0..3 = strides
            4..32 attended to) and the other :class:`Injector` settings
            (``num_heads`` is the stage's). Default: dict(levels=(1, 2, 3),
            num_points=4, init_gain=0.).
        out_stem (bool): Append the spatial prior's stride-4 map to the outputs
            (for ``SegformerSkipHead`` or an auxiliary head with ``in_index=4``).
            Needs ``injector_stages``. Default: False.
        vida_stages (Sequence[int]): Stages whose attention linears get ViDA
            branches. Default: ().
        vida_cfg (dict): ``targets`` (names of the linears inside a block) and
            :class:`~.vida.ViDABranches` settings. Default:
            dict(targets=('attn.q', 'attn.kv', 'attn.proj'), low_rank=1,
            high_rank=128, low_scale=1., high_scale=1.).
        prompt_cfg (dict, optional): Visual prompts, ``type`` 'evp' or 'cvp'
            plus the settings of :class:`ExplicitVisualPrompt` /
            :class:`ConvolutionalVisualPrompt` (``stages``, ...). Default: None.
        freeze_backbone (bool): Freeze every parameter of the backbone except
            those whose name contains one of ``trainable_keys``. Default: False.
        trainable_keys (Sequence[str]): e.g. ('adapter',), ('spatial_prior',
            'injectors'), ('vida',), ('prompt',). Default: ().
        **kwargs: Arguments of :class:`MixTransformer`.
    """

    def __init__(self,
                 adapt_blocks=(),
                 adapter_cfg=dict(bottleneck_ratio=0.25, scale=0.1,
                                  learnable_scale=False, dropout=0.1,
                                  act_cfg=dict(type='ReLU')),
                 injector_stages=(),
                 spatial_prior_cfg=dict(inplanes=64, embed_dims=64,
                                        norm_cfg=dict(type='BN')),
                 injector_cfg=dict(levels=(1, 2, 3), num_points=4, init_gain=0.),
                 out_stem=False,
                 vida_stages=(),
                 vida_cfg=dict(targets=('attn.q', 'attn.kv', 'attn.proj'), low_rank=1,
                               high_rank=128, low_scale=1., high_scale=1.),
                 prompt_cfg=None,
                 freeze_backbone=False,
                 trainable_keys=(),
                 **kwargs):
        # Read by build_block(), which MixTransformer.__init__ calls.
        self.adapt_blocks = tuple(adapt_blocks)
        self.adapter_cfg = dict(adapter_cfg)
        self.vida_stages = tuple(vida_stages)
        self.vida_cfg = dict(vida_cfg)
        self.vida_targets = tuple(self.vida_cfg.pop('targets', ()))
        super().__init__(**kwargs)
        for what, stages in (('adapt_blocks', self.adapt_blocks),
                             ('injector_stages', injector_stages),
                             ('vida_stages', self.vida_stages)):
            self._check_stages(stages, what)
        if self.vida_stages and not self.vida_targets:
            raise ValueError('MixTransformerAdapter: vida_stages are set but '
                             'vida_cfg.targets names no linear')
        self.injector_stages = tuple(injector_stages)
        self.out_stem = out_stem
        self._build_injectors(spatial_prior_cfg, injector_cfg)
        self._build_prompt(prompt_cfg)
        self.freeze_backbone = freeze_backbone
        self.trainable_keys = apply_freeze_backbone(
            self, freeze_backbone, trainable_keys, 'MixTransformerAdapter',
            'model.backbone.trainable_keys')

    def _check_stages(self, stages, what):
        if not all(isinstance(s, int) and 0 <= s < self.num_stages for s in stages):
            raise ValueError(f'MixTransformerAdapter: {what} {tuple(stages)} must be '
                             f'stages in 0..{self.num_stages - 1} (the backbone has '
                             f'{self.num_stages} stages)')

    def _build_injectors(self, spatial_prior_cfg, injector_cfg):
        self.spatial_prior = None
        self.injectors = None
        if not self.injector_stages:
            if self.out_stem:
                raise ValueError('MixTransformerAdapter: out_stem=True needs the '
                                 'spatial prior module: set injector_stages')
            return
        injector_cfg = dict(injector_cfg)
        self.injector_levels = tuple(injector_cfg.pop('levels', (1, 2, 3)))
        if not self.injector_levels or not all(
                isinstance(lv, int) and 0 <= lv <= 3 for lv in self.injector_levels):
            raise ValueError(f'MixTransformerAdapter: injector_cfg.levels '
                             f'{self.injector_levels} must be spatial-prior levels '
                             f'in 0..3 (strides 4, 8, 16, 32)')
        self.spatial_prior = SpatialPriorModule(**dict(
            dict(in_channels=self.patch_embeds[0].proj.in_channels), **spatial_prior_cfg))
        self.injectors = nn.ModuleDict({
            str(i): Injector(self.embed_dims[i], self.spatial_prior.embed_dims,
                             num_heads=self.num_heads[i],
                             num_levels=len(self.injector_levels), **injector_cfg)
            for i in self.injector_stages})

    def _build_prompt(self, prompt_cfg):
        self.prompt = None
        if prompt_cfg is None:
            return
        prompt_cfg = dict(prompt_cfg)
        kind = prompt_cfg.pop('type', None)
        if kind not in PROMPTS:
            raise ValueError(f'MixTransformerAdapter: prompt_cfg.type must be one of '
                             f'{sorted(PROMPTS)}, got {kind!r}')
        self._check_stages(prompt_cfg.get('stages', ()), 'prompt_cfg.stages')
        patch_embeds = self.patch_embeds
        self.prompt = PROMPTS[kind](
            stage_dims=self.embed_dims, depths=self.depths,
            patch_sizes=[pe.proj.kernel_size[0] for pe in patch_embeds],
            strides=[pe.proj.stride[0] for pe in patch_embeds],
            in_channels=patch_embeds[0].proj.in_channels, **prompt_cfg)

    def build_block(self, stage_idx, block_idx, **block_kwargs):
        """A MiT block, with an adapter and/or ViDA linears in the chosen stages."""
        if stage_idx in self.adapt_blocks:
            block_kwargs['block_cls'] = functools.partial(
                MiTAdapterBlock, copy.deepcopy(self.adapter_cfg))
        block = super().build_block(stage_idx, block_idx, **block_kwargs)
        if stage_idx in self.vida_stages:
            for target in self.vida_targets:
                self._attach_vida(block, target)
        return block

    def _attach_vida(self, block, target):
        parent_name, _, attr = target.rpartition('.')
        parent = block.get_submodule(parent_name) if parent_name else block
        linear = getattr(parent, attr, None)
        if not isinstance(linear, nn.Linear):
            raise ValueError(f'MixTransformerAdapter: vida_cfg.targets entry '
                             f'{target!r} is not an nn.Linear of a MiT block '
                             f'(found {type(linear).__name__})')
        setattr(parent, attr, ViDALinear.from_linear(linear, self.vida_cfg))

    def init_weights(self):
        """MixTransformer's init, then zero-correction init of the new modules.

        A random (NVlabs) init re-initialises every linear, the new modules'
        included, so they are reset after it; a pretrained checkpoint leaves
        them as built.
        """
        super().init_weights()
        if self.pretrained is None and self.init_cfg is None:
            for m in self.modules():
                if isinstance(m, PEFTModule):
                    m.reset_parameters()

    def image_context(self, img):
        """What the stages need from the image: spatial prior and prompt maps."""
        context = dict(img=img, spatial_prior=None, prompt=None)
        if self.prompt is not None and self.prompt.enabled:
            context['img'], context['prompt'] = self.prompt.prepare(img)
        if self.spatial_prior is not None and self.spatial_prior.enabled:
            context['spatial_prior'] = self.spatial_prior(img)
        return context

    def enter_stage(self, stage_idx, tokens, hw_shape, context):
        """Injects the spatial prior into the stage's tokens (``injector_stages``)
        and makes the stage's visual prompts.

        Raises:
            ValueError: no ``context`` (from :meth:`image_context`) for a backbone
                with a spatial prior or prompts.
        """
        if context is None and (self.spatial_prior is not None or self.prompt is not None):
            raise ValueError('MixTransformerAdapter.forward_stage: this backbone has a '
                             'spatial prior or prompts; pass the context built from '
                             'the image (use forward())')
        if context is None:
            return tokens, None
        if context['spatial_prior'] is not None and str(stage_idx) in self.injectors \
                and self.injectors[str(stage_idx)].enabled:
            feats = [context['spatial_prior'][lv] for lv in self.injector_levels]
            tokens = self.injectors[str(stage_idx)](tokens, hw_shape, feats)
        prompts = None
        if context['prompt'] is not None:
            prompts = self.prompt.stage_prompts(stage_idx, tokens, hw_shape,
                                                context['prompt'])
        return tokens, prompts

    def extra_outputs(self, context):
        """With ``out_stem``, the spatial prior's stride-4 map (None when the
        spatial prior is switched off), after the stages' outputs."""
        if not self.out_stem:
            return []
        prior = context['spatial_prior']
        return [None if prior is None else prior[0]]
