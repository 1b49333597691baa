"""EWC regulariser: Fisher on source batches, the penalty, the cache."""
import pytest
import torch
from mmcv import Config
from mmcv.parallel import DataContainer

from mmseg_ext.models import build_train_model


def build(model_cfg, uda_type='DACS', **uda):
    torch.manual_seed(0)
    return build_train_model(Config(dict(model=model_cfg(), uda=dict(type=uda_type, **uda))))


def test_fisher_penalty_and_cache(model_cfg, make_batch, tmp_path):
    cache = str(tmp_path / 'fisher.pth')
    model = build(model_cfg, ewc_lambda=2.0, ewc_fisher_batches=2, ewc_fisher_file=cache)
    batches = [make_batch(seed=s) for s in range(3)]
    model.before_stream(iter(batches))
    assert bool(model.ewc.ready)

    # reference: mean of squared gradients of the supervised loss, eval mode
    student = model.model.eval()
    params = [p for p in student.parameters() if p.requires_grad]
    fisher = 0
    for b in batches[:2]:
        loss, _ = model._parse_losses(student.forward_train(
            b['img'], b['img_metas'], b['gt_semantic_seg']))
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        fisher = fisher + torch.cat([(torch.zeros_like(p) if g is None else g ** 2)
                                     .flatten() for g, p in zip(grads, params)])
    assert torch.allclose(model.ewc.fisher, fisher / 2, rtol=1e-4, atol=1e-10)
    assert model.ewc(student).item() == 0.0

    with torch.no_grad():
        for p in params:
            p.add_(0.01)
    expected = 0.5 * 2.0 * (model.ewc.fisher * 0.01 ** 2).sum()
    assert torch.allclose(model.ewc(student), expected, rtol=1e-3)

    # the cache is reused by a second run on the same source model ...
    again = build(model_cfg, ewc_lambda=2.0, ewc_fisher_batches=2, ewc_fisher_file=cache)
    again.before_stream([])
    assert torch.equal(again.ewc.fisher, model.ewc.fisher)
    # ... refused for another source model
    torch.manual_seed(1)
    other = build_train_model(Config(dict(model=model_cfg(), uda=dict(
        type='DACS', ewc_lambda=2.0, ewc_fisher_file=cache, ewc_fisher_batches=2))))
    with torch.no_grad():
        next(other.model.parameters()).add_(1.0)
    with pytest.raises(ValueError, match='computed for another source model'):
        other.before_stream([])


def test_ewc_step_logs_penalty_and_needs_fisher(model_cfg, make_batch):
    model = build(model_cfg, 'TENT', ewc_lambda=1.0, ewc_fisher_batches=1)
    assert all('norm' in n or 'bn' in n for n in model.ewc.names)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    with pytest.raises(RuntimeError, match='call before_stream'):
        model.train_step(make_batch(source=False), opt)
    model.before_stream([make_batch()])
    logs = model.train_step(make_batch(source=False), opt)['log_vars']
    assert logs['loss_ewc'] == 0.0  # the student is still the source model
    logs = model.train_step(make_batch(seed=1, source=False), opt)['log_vars']
    assert logs['loss_ewc'] > 0.0
    with pytest.raises(ValueError, match='needs 3 source batches'):
        build(model_cfg, ewc_lambda=1.0, ewc_fisher_batches=3).before_stream(
            [make_batch()])


def test_before_stream_takes_collated_batches(model_cfg, make_batch):
    b = make_batch()
    collated = dict(img=DataContainer([b['img']], stack=True),
                    img_metas=DataContainer([b['img_metas']], cpu_only=True),
                    gt_semantic_seg=DataContainer([b['gt_semantic_seg']], stack=True))
    plain = build(model_cfg, ewc_lambda=1.0, ewc_fisher_batches=1)
    plain.before_stream([b])
    wrapped = build(model_cfg, ewc_lambda=1.0, ewc_fisher_batches=1)
    wrapped.before_stream([collated])
    assert plain.ewc.fisher.sum() > 0
    assert torch.equal(plain.ewc.fisher, wrapped.ewc.fisher)


def test_penalty_and_gradient_equal_the_per_parameter_formula(model_cfg, make_batch):
    model = build(model_cfg, ewc_lambda=3.0, ewc_fisher_batches=2)
    model.before_stream([make_batch(seed=s) for s in range(2)])
    student = model.model
    params = [p for p in student.parameters() if p.requires_grad]
    with torch.no_grad():
        for p in params:
            p.add_(0.01 * torch.randn_like(p))

    def reference():  # the formula before the parameters were listed once
        named = dict(student.named_parameters())
        theta = torch.cat([named[n].reshape(-1) for n in model.ewc.names])
        return 0.5 * 3.0 * (model.ewc.fisher * (theta - model.ewc.theta_src) ** 2).sum()

    expected = reference()
    expected_grads = torch.autograd.grad(expected, params)
    penalty = model.ewc(student)
    grads = torch.autograd.grad(penalty, params)
    assert penalty.item() > 0 and torch.equal(penalty, expected)
    assert all(torch.equal(g, e) for g, e in zip(grads, expected_grads))
    # the parameters are looked up once, and again after a move of the method
    assert model.ewc._params(student) is model.ewc._params(student)
    model.to(torch.float64)
    assert model.ewc._param_cache is None
    assert model.ewc(student).dtype == torch.float64
    assert torch.equal(model.ewc(student), reference())
