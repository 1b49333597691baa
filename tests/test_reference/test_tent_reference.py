"""TENT's step and prediction against an independent reimplementation of its
reference code.

Reference: DequanWang/tent, ``tent.py`` (ICLR 2021): ``configure_model`` puts the
model in train mode, freezes everything but the normalisation layers and makes
BatchNorm use the batch statistics in train and eval mode alike (no running
statistics: ``track_running_stats=False``, ``running_mean = running_var =
None``); ``forward_and_adapt`` returns the outputs of the forward it adapts on
(so a frame is predicted with its own batch statistics, before the update),
minimising the mean softmax entropy with one Adam step. The project's documented
parameter set is the weight and bias of LayerNorm and BatchNorm layers (TENT's
``collect_params`` takes BatchNorm's; a transformer normalises with LayerNorm).
Written here from that description, with mmseg's own ``EncoderDecoder``.
"""
import torch
import torch.nn as nn

from tiny_segformer import build_pair, frames

NORMS = (nn.LayerNorm, nn.BatchNorm2d)


def configure_reference(model):
    """TENT's ``configure_model`` and ``collect_params`` (LayerNorm + BatchNorm)."""
    model.train()
    model.requires_grad_(False)
    params, names = [], []
    for mod_name, module in model.named_modules():
        if isinstance(module, NORMS):
            module.requires_grad_(True)
            params += [module.weight, module.bias]
            names += [f'{mod_name}.weight', f'{mod_name}.bias']
        if isinstance(module, nn.BatchNorm2d):
            module.track_running_stats = False
            module.running_mean = None
            module.running_var = None
    return params, names


def entropy(logits):
    return -(logits.softmax(1) * logits.log_softmax(1)).sum(1)


def forward_and_adapt(model, optimizer, img, metas):
    """One TENT iteration: outputs of the adapted forward, and its loss."""
    outputs = model.encode_decode(img, metas)
    loss = entropy(outputs).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return outputs.detach(), float(loss)


def test_two_tent_steps_match_the_reference():
    method, ref = build_pair(dict(type='TENT'), drop=0.0)
    params, names = configure_reference(ref)
    assert {n for n, p in method.model.named_parameters() if p.requires_grad} == set(names)
    # SGD, not TENT's Adam: some gradients are zero up to float noise (a shift
    # that the train-mode BatchNorm after it removes), and Adam would scale that
    # noise to lr-sized steps; SGD compares the gradients themselves.
    ref_opt = torch.optim.SGD(params, lr=1.0)
    optimizer = torch.optim.SGD([p for p in method.model.parameters() if p.requires_grad],
                                lr=1.0)
    source_buffers = {k: v.clone() for k, v in method.model.named_buffers()}
    source_params = [p.detach().clone() for p in params]
    for t in range(2):
        img, metas = frames(n=2, seed=t)
        outputs, loss = forward_and_adapt(ref, ref_opt, img, metas)
        deployed = method.online_inference(img, metas)
        assert torch.equal(deployed['pred'], outputs.argmax(1))
        assert torch.allclose(deployed['entropy'], entropy(outputs).flatten(1).mean(1),
                              rtol=1e-5)
        logs = method.train_step(dict(target_img=img, target_img_metas=metas),
                                 optimizer)['log_vars']
        assert abs(logs['loss_entropy'] - loss) <= 1e-5 * loss
        for (name, p), r in zip(method.model.named_parameters(), ref.parameters()):
            assert torch.allclose(p, r, rtol=1e-5, atol=1e-7), name
    assert max(float((p - s).abs().max()) for p, s in zip(params, source_params)) > 1e-3
    # no running statistic is tracked, and evaluation predicts with the batch's
    for name, buf in method.model.named_buffers():
        assert torch.equal(buf, source_buffers[name]), name
    img, metas = frames(n=2, seed=9)
    with torch.no_grad():
        expected = ref.eval().encode_decode(img, metas).argmax(1)
    assert [r.tolist() for r in method.simple_test(img, metas)] == expected.tolist()


def test_running_statistics_prediction_is_not_the_reference():
    """The test above can tell the statistics apart: the project variant's
    prediction (running statistics) differs from TENT's on the same frame."""
    method, ref = build_pair(dict(type='TENT', norm_stats=dict(predict='running')), drop=0.0)
    configure_reference(ref)
    img, metas = frames(n=2, seed=0)
    with torch.no_grad():
        outputs = ref.encode_decode(img, metas)
    assert not torch.equal(method.online_inference(img, metas)['pred'], outputs.argmax(1))
