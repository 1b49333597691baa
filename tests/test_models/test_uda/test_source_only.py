"""SourceOnly: the step changes nothing; the online prediction and its entropy."""
import math

import pytest
import torch
from mmcv import Config

from mmseg_ext.models import build_train_model


def test_source_only_changes_nothing_and_predicts(model_cfg, make_batch):
    torch.manual_seed(0)
    model = build_train_model(Config(dict(model=model_cfg(), uda=dict(type='SourceOnly'))))
    before = {k: v.clone() for k, v in model.state_dict().items() if k != 'local_iter'}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for seed in range(2):
        out = model.train_step(make_batch(seed=seed, source=False), opt)
    assert out['log_vars'] == {} and out['num_samples'] == 1
    assert math.isnan(out['policy_loss'])  # no loss term for a module policy
    after = model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())

    batch = make_batch(n=2)
    res = model.online_inference(batch['target_img'], batch['target_img_metas'])
    assert res['pred'].shape == (2, 64, 128) and res['pred'].dtype == torch.long
    model.eval()
    with torch.no_grad():
        logits = model.model.encode_decode(batch['target_img'], batch['target_img_metas'])
    p = logits.softmax(1)
    assert torch.equal(res['pred'], logits.argmax(1))
    expected = -(p * p.log()).sum(1).flatten(1).mean(1)
    assert res['entropy'].shape == (2,)
    assert torch.allclose(res['entropy'], expected, atol=1e-5)
    assert model.model.training is False


def test_train_step_needs_one_optimizer(model_cfg, make_batch):
    model = build_train_model(Config(dict(model=model_cfg(), uda=dict(type='SourceOnly'))))
    with pytest.raises(TypeError, match='needs one torch.optim.Optimizer.*got dict'):
        model.train_step(make_batch(), dict(model=None))
