"""train_online end to end on the tiny stream: files, numbers, resume, bad input."""
import json
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmcv.runner import HOOKS, Hook
from mmcv.utils import Config

from mmseg_ext.apis.config import config_hash
from online_src.apis.online import build_online_model, check_online_cfg, train_online


class CrashAt(Hook):
    """Simulates a crash after ``frame`` frames."""

    def __init__(self, frame):
        self.frame = frame

    def after_train_iter(self, runner):
        if runner.frames_done == self.frame:
            raise KeyboardInterrupt(f'crash at frame {self.frame}')


if 'CrashAt' not in HOOKS.module_dict:
    HOOKS.register_module(name='CrashAt', module=CrashAt)


def _rows(work_dir):
    with open(osp.join(work_dir, 'results.json')) as f:
        return json.load(f)


def test_stream_writes_results_and_timing(tiny, tmp_path):
    cfg = tiny['cfg'](tmp_path / 'run')
    cfg.name = 'it\'s the "tiny" run'  # quotes broke mmcv's Config.dump
    runner = train_online(cfg)
    rows = _rows(cfg.work_dir)
    # initial evaluation + one after each of the 4 visits
    assert [r['after'] for r in rows] == ['init', 'clear', '25mm', '50mm', 'clear']
    assert all(0 <= r['clear.mIoU'] <= 100 for r in rows)
    assert 'stream.mIoU' in rows[1] and 'stream.mIoU' not in rows[0]
    assert runner.frames_done == 12
    fps = np.load(osp.join(cfg.work_dir, 'fps.npy'))
    assert fps.shape == (12, 4)
    assert fps[:, 1].sum() == 12  # every frame adapted
    csv = open(osp.join(cfg.work_dir, 'results.csv')).read().splitlines()
    assert len(csv) == 6 and csv[0].startswith('eval,after,visit,frames,clear.mIoU')
    with open(osp.join(cfg.work_dir, 'summary.json')) as f:
        summary = json.load(f)
    assert set(summary['stream_accuracy']) == {'clear', '25mm', '50mm'}
    assert summary['domain_values'] == {'clear': 0, '25mm': 25, '50mm': 50}
    assert osp.getsize(osp.join(cfg.work_dir, 'miou_stream.png')) > 1000
    assert Config.fromfile(osp.join(cfg.work_dir, 'config.py')).name == 'it\'s the "tiny" run'


@pytest.mark.filterwarnings('ignore:runner.domain_detector is deprecated')
@pytest.mark.parametrize('legacy', [False, True])
def test_resume_after_crash_reproduces_uninterrupted_run(tiny, tmp_path, legacy):
    """legacy: the crashed run has the flat runner keys of earlier configs and its
    checkpoint keeps the controller's parts at the top of `online`, as before the
    controller section."""
    ckpt = dict(by_epoch=False, interval=2)
    detector = dict(enabled=True, type='relative', window=2, min_frames=2)
    ref_cfg = tiny['cfg'](tmp_path / 'ref', controller=dict(detector=detector))
    ref_cfg.checkpoint_config = ckpt
    ref = train_online(ref_cfg)
    ref_rows = _rows(ref_cfg.work_dir)

    cfg = tiny['cfg'](tmp_path / 'crash', **(dict(domain_detector=detector) if legacy
                                              else dict(controller=dict(detector=detector))))
    cfg.checkpoint_config = ckpt
    cfg.custom_hooks = [dict(type='CrashAt', frame=7)]
    with pytest.raises(KeyboardInterrupt, match='crash at frame 7'):
        train_online(cfg)
    assert len(_rows(cfg.work_dir)) == 3  # init, clear, 25mm finished before
    cfg.custom_hooks = []
    resume_from = osp.join(cfg.work_dir, 'iter_6.pth')
    if legacy:
        old = torch.load(resume_from, weights_only=False)
        old['online'].update(old['online'].pop('controller'))
        assert {'budget_left', 'schedule', 'detector'} <= set(old['online'])
        torch.save(old, resume_from)
    resumed = train_online(cfg, resume_from=resume_from)
    rows = _rows(cfg.work_dir)
    assert [r['after'] for r in rows] == [r['after'] for r in ref_rows]
    for a, b in zip(rows, ref_rows):
        for k in a:
            if isinstance(a[k], float):
                assert a[k] == pytest.approx(b[k], abs=1e-6, nan_ok=True), k
    for (k, v), (k2, v2) in zip(resumed.method.state_dict().items(),
                                ref.method.state_dict().items()):
        assert torch.allclose(v.float(), v2.float(), atol=1e-6), k
    assert resumed.controller.detector.state_dict()['recent'] == pytest.approx(
        ref.controller.detector.state_dict()['recent'])
    assert resumed.replay.source.dataset.dataset.draws == ref.replay.source.dataset.dataset.draws
    assert np.load(osp.join(cfg.work_dir, 'fps.npy')).shape == (12, 4)


def test_bad_input_fails_before_training(tiny, tmp_path):
    cfg = tiny['cfg'](tmp_path / 'bad', domain_order=['clear', '300mm'])
    with pytest.raises(ValueError, match=r"unknown domain\(s\) \['300mm'\]"):
        check_online_cfg(cfg)
    cfg = tiny['cfg'](tmp_path / 'bad', controller=dict(budget=dict(frames=2)))
    with pytest.raises(ValueError, match=r"budget.trigger='detector' needs "
                                         r"controller.detector.enabled=True"):
        check_online_cfg(cfg)  # the controller's sections, before any dataset is built
    cfg = tiny['cfg'](tmp_path / 'bad')
    cfg.data.train = cfg.data.train[1:]
    with pytest.raises(ValueError, match='data.train\\[0\\] must be the source dataset'):
        train_online(cfg)
    cfg = tiny['cfg'](tmp_path / 'done', domain_order=['clear'])
    train_online(cfg)
    with pytest.raises(FileExistsError, match='already holds a finished run'):
        train_online(cfg)
    train_online(cfg, overwrite=True)
    assert len(_rows(cfg.work_dir)) == 2
    other = tiny['cfg'](tmp_path / 'other', domain_order=['clear'], frames_per_domain=2)
    other.checkpoint_config = dict(by_epoch=False, interval=1)
    train_online(other)
    assert config_hash(other) != config_hash(cfg)
    fresh = tiny['cfg'](tmp_path / 'fresh', domain_order=['clear'])
    with pytest.raises(ValueError, match='written by another config'):
        train_online(fresh, resume_from=osp.join(other.work_dir, 'iter_1.pth'))


def test_build_online_model_loads_the_source_into_the_student(tiny, tmp_path):
    cfg = tiny['cfg'](tmp_path / 'run')
    torch.manual_seed(3)
    source = tiny['TinyMethod']().model.state_dict()
    torch.save(dict(state_dict={f'module.{k}': v for k, v in source.items()}),
               str(tmp_path / 'source.pth'))
    model, optimizer = build_online_model(cfg, 'cpu', load_from=str(tmp_path / 'source.pth'))
    student = model.module.get_model().state_dict()
    assert list(student) == list(source)
    assert all(torch.equal(student[k], source[k]) for k in source)
    assert [p for g in optimizer.param_groups for p in g['params']] == \
        list(model.parameters())
    assert optimizer.defaults['lr'] == 0.05
    plain, _ = build_online_model(cfg, 'cpu')  # no load_from: the initial weights
    assert not torch.equal(plain.module.get_model().conv1.weight, source['conv1.weight'])
