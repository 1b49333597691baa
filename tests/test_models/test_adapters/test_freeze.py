"""freeze / unfreeze / make_reference_model: requires_grad by name, gradients, eval
mode of frozen dropout and batch norm, mirror vs pretrained reference models."""
import pytest
import torch
import torch.nn as nn

from mmseg_ext.models.backbones.adaptformer import Adapter
from mmseg_ext.models.utils import (freeze, make_reference_model, set_peft_enabled,
                                    trainable_parameters, unfreeze)


class Net(nn.Module):
    """A frozen trunk (linear, dropout, BN) with an adapter and a head."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.5)
        self.bn = nn.BatchNorm1d(8)
        self.adapter = Adapter(8, bottleneck_ratio=0.5, dropout=0.5)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        h = self.bn(self.drop(self.trunk(x)))
        if self.adapter.enabled:
            h = h + self.adapter(h)
        return self.head(h)


def test_only_named_parameters_train_and_get_gradients():
    torch.manual_seed(0)
    net = Net()
    kept = freeze(net, trainable=('adapter', 'head'))
    assert kept == ['adapter.down.weight', 'adapter.down.bias', 'adapter.up.weight',
                    'adapter.up.bias', 'head.weight', 'head.bias']
    assert [n for n, _ in trainable_parameters(net)] == kept
    net.train()
    net(torch.randn(4, 8)).sum().backward()
    for name, p in net.named_parameters():
        if name in kept:
            assert p.grad is not None
        else:
            assert p.grad is None, name
    # the zero-initialised up-projection gets a gradient, the head a nonzero one
    assert net.adapter.up.weight.grad.abs().sum().item() > 0
    assert net.head.weight.grad.abs().sum().item() > 0


def test_frozen_dropout_and_bn_stay_in_eval_mode_after_train():
    torch.manual_seed(0)
    net = Net()
    freeze(net, trainable=('adapter',))
    net.train()  # what the runner does every iteration
    running = net.bn.running_mean.clone()
    x = torch.randn(16, 8)
    trunk = net.bn(net.drop(net.trunk(x)))
    expected = (net.trunk(x) - running) / torch.sqrt(net.bn.running_var + net.bn.eps)
    assert torch.allclose(trunk, expected * net.bn.weight + net.bn.bias, atol=1e-6)
    assert torch.equal(net.bn.running_mean, running)  # statistics not updated
    assert net.drop.training is False and net.bn.training is False
    net(x)
    assert net.trunk.training is False  # frozen, parameters inside: eval
    assert net.training is True and net.adapter.training is True  # trainable inside
    # the adapter's own dropout is trainable: it still drops
    net.adapter(x)
    assert net.adapter.dropout.training is True
    unfreeze(net)
    net.train()
    net.bn(net.trunk(x))
    assert not torch.equal(net.bn.running_mean, running)
    assert net.trunk.training is True
    assert all(p.requires_grad for p in net.parameters())


def test_freeze_all_then_unfreeze():
    net = Net()
    assert freeze(net) == []
    assert not any(p.requires_grad for p in net.parameters())
    unfreeze(net)
    assert sum(p.requires_grad for p in net.parameters()) == 10


def test_bad_keys():
    net = Net()
    with pytest.raises(ValueError, match="trainable key 'adaptr' matches no parameter "
                                         "of Net"):
        freeze(net, trainable=('adapter', 'adaptr'))
    with pytest.raises(TypeError, match='list/tuple of non-empty str'):
        freeze(net, trainable='adapter')
    with pytest.raises(TypeError, match='list/tuple of non-empty str'):
        freeze(net, trainable=('',))


def test_reference_model_mirror_and_pretrained():
    torch.manual_seed(0)
    student = Net()
    plain = Net()
    plain.load_state_dict(student.state_dict())
    with torch.no_grad():  # an adapted student: nonzero adapter
        student.adapter.up.weight.normal_()
    freeze(student, trainable=('adapter',))
    student.eval()
    plain.eval()
    set_peft_enabled(plain, False)
    x = torch.randn(4, 8)

    mirror = make_reference_model(student, mode='mirror')
    pretrained = make_reference_model(student, mode='pretrained')
    for ref in (mirror, pretrained):
        assert not any(p.requires_grad for p in ref.parameters())
        assert ref.training is False
    assert all(p.data_ptr() != q.data_ptr()
               for p, q in zip(mirror.parameters(), student.parameters()))
    with torch.no_grad():
        assert torch.equal(mirror(x), student(x))
        assert torch.equal(pretrained(x), plain(x))
        assert (pretrained(x) - student(x)).abs().max().item() > 1e-3
    # the student is untouched
    assert student.adapter.enabled and student.adapter.up.weight.requires_grad
    with pytest.raises(ValueError, match="mode must be one of \\('mirror', "
                                         "'pretrained'\\), got 'plain'"):
        make_reference_model(student, mode='plain')


def test_set_peft_enabled_counts_modules():
    net = Net()
    assert set_peft_enabled(net, False) == 1
    assert net.adapter.enabled is False
