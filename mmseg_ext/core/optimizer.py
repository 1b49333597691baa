"""Parameter-wise optimizer settings with every parameter in exactly one group."""
import torch.nn as nn
from mmcv.runner import OPTIMIZER_BUILDERS, OPTIMIZERS, DefaultOptimizerConstructor
from mmcv.utils import build_from_cfg

__all__ = ['ParamWiseOptimizerConstructor']

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm,
          nn.modules.instancenorm._InstanceNorm)


@OPTIMIZER_BUILDERS.register_module()
class ParamWiseOptimizerConstructor(DefaultOptimizerConstructor):
    """Per-parameter lr/decay multipliers (SegFormer/DAFormer recipe), one group each.

    SegFormer and DAFormer train with AdamW, a 10x learning rate for the head and
    no weight decay on norms and positional blocks, written as mmcv's
    ``paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.),
    pos_block=dict(decay_mult=0.), norm=dict(decay_mult=0.)))``. mmcv's default
    constructor adds a module's parameters once per module that holds them, so a
    parameter shared by two modules (an adapter that wraps a backbone layer, a
    tied projection) ends up in two groups and torch refuses the optimizer
    ("some parameters appear in more than one parameter group"). This
    constructor visits each parameter once (first name wins), merges parameters
    with equal settings into one group, and names the rule that chose them.

    ``paramwise_cfg`` keys:

    * ``custom_keys`` (dict): ``{substring: dict(lr_mult=, decay_mult=)}``; the
      longest substring found in a parameter's full name applies. Default: {}.
    * ``norm_decay_mult`` (float, optional): decay multiplier of parameters of
      norm layers (by type, whatever their name). Default: None.
    * ``bias_decay_mult`` (float, optional): decay multiplier of biases. Default: None.
    * ``skip_frozen`` (bool): leave parameters with ``requires_grad=False`` out of
      the optimizer; which ones those are is decided in one place,
      ``mmseg_ext.models.utils.trainable.set_trainable``, and only read here. Keep
      False when stages are frozen and unfrozen during the run (modular
      training). Default: False.

    Args:
        optimizer_cfg (dict): mmcv optimizer config (``type``, ``lr``, ...).
        paramwise_cfg (dict, optional): see above. Default: None.
    """

    ALLOWED_KEYS = ('custom_keys', 'norm_decay_mult', 'bias_decay_mult', 'skip_frozen')

    def __init__(self, optimizer_cfg, paramwise_cfg=None):
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = sorted(set(paramwise_cfg) - set(self.ALLOWED_KEYS))
        if unknown:
            raise ValueError(f'ParamWiseOptimizerConstructor: unknown paramwise_cfg keys '
                           f'{unknown}; expected some of {list(self.ALLOWED_KEYS)}')
        for key, rule in paramwise_cfg.get('custom_keys', {}).items():
            bad = sorted(set(rule) - {'lr_mult', 'decay_mult'})
            if bad:
                raise ValueError(f'ParamWiseOptimizerConstructor: custom_keys[{key!r}] has '
                               f'{bad}; expected lr_mult and/or decay_mult')
        super().__init__(optimizer_cfg, paramwise_cfg)

    def param_settings(self, name, param, module):
        """``(lr_mult, decay_mult)`` of one parameter.

        Args:
            name (str): full parameter name.
            param (nn.Parameter): the parameter.
            module (nn.Module): the module that holds it directly.
        """
        cfg = self.paramwise_cfg
        lr_mult, decay_mult = 1., 1.
        custom = cfg.get('custom_keys', {})
        for key in sorted(sorted(custom), key=len, reverse=True):
            if key in name:
                lr_mult = custom[key].get('lr_mult', 1.)
                decay_mult = custom[key].get('decay_mult', 1.)
                break
        else:
            if cfg.get('norm_decay_mult') is not None and isinstance(module, _NORMS):
                decay_mult = cfg['norm_decay_mult']
            elif cfg.get('bias_decay_mult') is not None and name.endswith('.bias'):
                decay_mult = cfg['bias_decay_mult']
        return lr_mult, decay_mult

    def param_groups(self, model):
        """The optimizer's parameter groups: one per distinct ``(lr_mult, decay_mult)``.

        Returns:
            list[dict]: groups with ``params``, ``lr``, ``weight_decay`` and
            ``names`` (the parameter names, for logs and tests).
        """
        seen, groups = set(), {}
        skip_frozen = self.paramwise_cfg.get('skip_frozen', False)
        for module_name, module in model.named_modules():
            for pname, param in module.named_parameters(recurse=False):
                if id(param) in seen or (skip_frozen and not param.requires_grad):
                    continue
                seen.add(id(param))
                name = f'{module_name}.{pname}' if module_name else pname
                key = self.param_settings(name, param, module)
                group = groups.setdefault(key, dict(params=[], names=[]))
                group['params'].append(param)
                group['names'].append(name)
        out = []
        for (lr_mult, decay_mult), group in groups.items():
            group['lr'] = self.base_lr * lr_mult
            if self.base_wd is not None:
                group['weight_decay'] = self.base_wd * decay_mult
            out.append(group)
        return out

    def __call__(self, model):
        model = getattr(model, 'module', model)
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cfg['params'] = self.param_groups(model)
        return build_from_cfg(optimizer_cfg, OPTIMIZERS)
