"""Logging backends: TensorBoard scalars from the default runtime, optional W&B."""
import logging
import os.path as osp
import sys
import types

import pytest
import torch
from mmcv import Config
from mmcv.runner import IterBasedRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mmseg_ext.core import resolve_log_config

RUNTIME = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_',
                   'default_runtime.py')


class _Linear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(2.0))

    def train_step(self, data, optimizer, **kwargs):
        loss = (self.w * data) ** 2
        log_vars = dict(loss=float(loss.detach()), w=float(self.w.detach()))
        return dict(loss=loss, log_vars=log_vars, num_samples=1)


def _run(cfg, work_dir, iters=2):
    model = _Linear()
    runner = IterBasedRunner(model, optimizer=torch.optim.SGD(model.parameters(), 0.1),
                             work_dir=str(work_dir),
                             logger=logging.getLogger('test_log_backends'))
    runner.register_training_hooks(lr_config=None, optimizer_config=dict(grad_clip=None),
                                   log_config=resolve_log_config(cfg))
    runner.run([[torch.tensor(1.0)] * iters], [('train', 1)], max_iters=iters)
    return runner


def test_tensorboard_scalars_for_every_logged_key(tmp_path):
    cfg = Config.fromfile(RUNTIME)
    cfg.log_config.interval = 1
    _run(cfg, tmp_path)
    events = list((tmp_path / 'tf_logs').glob('events.out.tfevents.*'))
    assert len(events) == 1
    acc = EventAccumulator(str(events[0]))
    acc.Reload()
    tags = acc.Tags()['scalars']
    assert {'train/loss', 'train/w', 'learning_rate'} <= set(tags)
    # w: 2.0 -> 2 - 0.1 * d(w^2)/dw = 2 - 0.4 = 1.6; loss is logged before the step
    assert [e.value for e in acc.Scalars('train/w')] == pytest.approx([2.0, 1.6])
    assert [e.value for e in acc.Scalars('train/loss')] == pytest.approx([4.0, 2.56])


def test_wandb_off_by_default():
    cfg = Config.fromfile(RUNTIME)
    hooks = [h['type'] for h in resolve_log_config(cfg)['hooks']]
    assert hooks == ['TextLoggerHook', 'StreamTensorboardLoggerHook']


def test_wandb_enabled_without_package(monkeypatch):
    cfg = Config.fromfile(RUNTIME)
    cfg.wandb.enabled = True
    monkeypatch.setitem(sys.modules, 'wandb', None)
    monkeypatch.setattr('importlib.util.find_spec', lambda name: None)
    with pytest.raises(ImportError, match='wandb.enabled=True but the wandb package'):
        resolve_log_config(cfg)


def test_wandb_enabled_logs_every_key(tmp_path, monkeypatch):
    logged, inits = [], []
    fake = types.ModuleType('wandb')
    fake.init = lambda **kw: inits.append(kw)
    fake.log = lambda data, step=None, commit=True: logged.append((step, dict(data)))
    fake.join = lambda: None
    fake.define_metric = lambda *a, **k: None
    monkeypatch.setitem(sys.modules, 'wandb', fake)
    monkeypatch.setattr('importlib.util.find_spec', lambda name: object())
    cfg = Config.fromfile(RUNTIME)
    cfg.merge_from_dict({'wandb.enabled': True, 'log_config.interval': 1,
                         'name': 'run_a'})
    _run(cfg, tmp_path)
    assert inits == [dict(project='onda-seg', name='run_a')]
    assert [s for s, _ in logged] == [1, 2]
    assert logged[1][1]['train/w'] == pytest.approx(1.6)
