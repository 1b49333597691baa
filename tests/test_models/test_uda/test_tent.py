"""TENT: only norm affine parameters change; entropy on the batch goes down."""
import pytest
import torch
import torch.nn as nn
from mmcv import Config

from mmseg_ext.models import build_train_model
from mmseg_ext.models.uda.tent import NORM_LAYERS
from mmseg_ext.models.uda.uda_decorator import softmax_entropy


def build(model_cfg, **uda):
    torch.manual_seed(0)
    return build_train_model(Config(dict(model=model_cfg(), uda=dict(type='TENT', **uda))))


def norm_param_names(model):
    names = set()
    for mod_name, module in model.named_modules():
        if isinstance(module, NORM_LAYERS):
            names.update(f'{mod_name}.{n}' for n, _ in module.named_parameters())
    return names


def test_tent_updates_only_norm_affine_and_lowers_entropy(model_cfg, make_batch):
    model = build(model_cfg)
    norms = norm_param_names(model.model)
    trainable = {n for n, p in model.model.named_parameters() if p.requires_grad}
    assert trainable == norms and len(norms) > 10
    before = {n: p.detach().clone() for n, p in model.model.named_parameters()}
    batch = make_batch(n=2)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)

    def entropy():
        with torch.no_grad():  # train mode: batch statistics, as TENT adapts
            return softmax_entropy(model.model.encode_decode(
                batch['target_img'], batch['target_img_metas'])).mean().item()

    model.train()
    ent0 = entropy()
    logs = model.train_step(batch, opt)['log_vars']
    assert logs['loss_entropy'] == pytest.approx(ent0, rel=1e-5)
    ent1 = entropy()
    model.train_step(batch, opt)
    ent2 = entropy()
    assert ent1 < ent0 and ent2 < ent1
    changed = {n for n, p in model.model.named_parameters()
               if not torch.equal(p, before[n])}
    assert changed and changed <= norms
    assert any('backbone' in n for n in changed) and any('decode_head' in n
                                                        for n in changed)


def test_tent_is_source_free(model_cfg, make_batch):
    model = build(model_cfg)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    out = model.train_step(make_batch(source=False, target_labels=False), opt)
    assert out['num_samples'] == 1 and out['log_vars']['loss_entropy'] > 0


def test_tent_running_stats_switch(model_cfg, make_batch):
    model = build(model_cfg, norm_stats=dict(student='running', predict='running'))
    model.train()
    bns = [m for m in model.model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    stats = [m.running_mean.clone() for m in bns]
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train_step(make_batch(source=False), opt)
    assert all(torch.equal(m.running_mean, s) for m, s in zip(bns, stats))
    assert build(model_cfg).train().model.decode_head.fusion_conv.bn.training


def test_tent_with_frozen_backbone_adapts_head_norms_only(model_cfg):
    model = build(model_cfg, freeze_backbone=True)
    trainable = [n for n, p in model.model.named_parameters() if p.requires_grad]
    assert trainable and all(n.startswith('decode_head.') for n in trainable)


@pytest.mark.parametrize('key', [dict(student='running'), dict(target_pass=True)])
def test_batch_statistics_prediction_refuses_running_statistics_keys(model_cfg, key):
    with pytest.raises(ValueError, match="predict='batch' tracks no running"):
        build(model_cfg, norm_stats=key)


def test_prediction_statistics_switch(model_cfg, make_batch):
    """TENT predicts with the batch's statistics and leaves the running ones;
    the variant predicts with the running ones, which its steps update."""
    b = make_batch(n=1, source=False)
    img, metas = b['target_img'], b['target_img_metas']

    def opt_of(method):
        return torch.optim.SGD([p for p in method.parameters() if p.requires_grad],
                               lr=0.0)

    tent = build(model_cfg)
    bn = tent.model.decode_head.fusion_conv.bn
    stats = bn.running_mean.clone()
    with torch.no_grad():
        expected = tent.model.train().encode_decode(img, metas).argmax(1)
    bn.running_mean.copy_(stats)
    assert torch.equal(tent.online_inference(img, metas)['pred'], expected)
    tent.train_step(b, opt_of(tent))
    assert torch.equal(bn.running_mean, stats) and bn.running_mean is not None
    variant = build(model_cfg, norm_stats=dict(predict='running'))
    variant.train_step(b, opt_of(variant))
    vbn = variant.model.decode_head.fusion_conv.bn
    assert not torch.equal(vbn.running_mean, stats)
    with torch.no_grad():
        expected = variant.model.eval().encode_decode(img, metas).argmax(1)
    assert torch.equal(variant.online_inference(img, metas)['pred'], expected)
