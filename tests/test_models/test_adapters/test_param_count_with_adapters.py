"""The parameter audit (tools/get_param_count.py's logic) on the adapter variants:
trainable = the adapter modules + the decode head."""
import pytest
import torch
from mmcv import Config
from mmseg.models import build_segmentor

from mmseg_ext.apis.param_count import count_from_config

KEYS = {'adapter-half': ('adapter',), 'vitadapter': ('spatial_prior', 'injectors'),
        'vida': ('vida',), 'evp': ('prompt',), 'cvp': ('prompt',)}


@pytest.mark.parametrize('variant', sorted(KEYS))
def test_trainable_count_is_adapters_plus_head(tiny_cfg, variant):
    torch.manual_seed(0)
    counts = count_from_config(Config(dict(model=tiny_cfg(variant))))
    model = build_segmentor(tiny_cfg(variant))
    modules = sum(p.numel() for n, p in model.backbone.named_parameters()
                  if any(k in n for k in KEYS[variant]))
    head = sum(p.numel() for p in model.decode_head.parameters())
    assert counts['trainable'] == modules + head
    assert counts['total'] == sum(p.numel() for p in model.parameters())
    rows = {name: (n, t) for name, n, t in counts['rows']}
    assert rows['backbone'][1] == modules
    if variant == 'adapter-half':
        assert modules == 5956  # 2 x (850 + 2128), see test_mix_transformer_adapter


def test_plain_model_trains_everything(tiny_cfg):
    counts = count_from_config(Config(dict(model=tiny_cfg())))
    assert counts['trainable'] == counts['total'] > 0
