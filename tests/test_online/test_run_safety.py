"""Run safety of online runs on the tiny stream: non-finite losses, checks before
the work dir is touched, --overwrite, the work-dir lock, unfinished runs, resume
guards, errors naming file/domain/frame, status.json, and random SIGKILLs."""
import glob
import json
import multiprocessing
import os
import os.path as osp
import random
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmcv.runner import HOOKS, Hook
from mmseg.datasets import DATASETS

from online_src.apis.online import train_online
from mmseg_ext.apis.workdir import (UnfinishedRunError, WorkDirBusyError,
                                    check_resume_config)
from mmseg_ext.core.checkpoint import load_checkpoint_file
from mmseg_ext.core.run_safety import FrameLoadError, NonFiniteLossError


def _json(path):
    with open(path) as f:  # strict: NaN/Infinity tokens are refused
        return json.load(f, parse_constant=lambda c: pytest.fail(f'{path} has {c}'))


def _finite(state_dict):
    return all(bool(torch.isfinite(v.float()).all()) for v in state_dict.values())


class KillAt(Hook):
    """SIGKILLs its own process after ``frame`` frames (fault injection)."""

    def __init__(self, frame):
        self.frame = frame

    def after_train_iter(self, runner):
        if runner.frames_done == self.frame:
            os.kill(os.getpid(), signal.SIGKILL)


class FailAt(Hook):
    """Raises in ``stage`` (a crash of the run)."""

    def __init__(self, stage='before_run', frame=None):
        self.stage, self.frame = stage, frame

    def before_run(self, runner):
        if self.stage == 'before_run':
            raise RuntimeError('boom at start')

    def after_train_iter(self, runner):
        if self.stage == 'frame' and runner.frames_done == self.frame:
            raise RuntimeError(f'boom at frame {self.frame}')


def unreadable_frames(base):
    """A domain dataset (subclass of ``base``) whose frame ``bad`` became unreadable."""

    class UnreadableFrames(base):
        def __init__(self, bad=1, **kwargs):
            super().__init__(**kwargs)
            self.bad = bad
            self.img_dir = '/data/tiny/' + self.name
            self.img_infos = [dict(filename=f'{i:04d}.png') for i in range(len(self))]

        def __getitem__(self, i):
            if i == self.bad and not self.test_mode:
                raise AttributeError("'NoneType' object has no attribute 'shape'")
            return super().__getitem__(i)

    return UnreadableFrames


for _name, _cls in (('KillAt', KillAt), ('FailAt', FailAt)):
    if _name not in HOOKS.module_dict:
        HOOKS.register_module(name=_name, module=_cls)


# ---------------------------------------------------------- 1 non-finite loss
def test_nonfinite_loss_stops_naming_frame_domain_and_term(tiny, tmp_path):
    cfg = tiny['cfg'](tmp_path / 'nan')
    cfg.optimizer.lr = 1e30  # frame 0's step sends the weights to 1e28: loss NaN
    cfg.checkpoint_config = dict(by_epoch=False, interval=1)
    with pytest.raises(NonFiniteLossError, match=(
            r"non-finite loss at frame 1 \(visit 0, domain 'clear'\): loss_src=nan, "
            r"loss_ent=nan \(optimizer step not taken\)\. Lower the learning rate .*"
            r"runner.nonfinite_loss='skip'")):
        train_online(cfg)
    work = cfg.work_dir
    assert not osp.exists(osp.join(work, 'summary.json'))
    latest = load_checkpoint_file(osp.join(work, 'latest.pth'))
    assert latest['meta']['iter'] == 1 and _finite(latest['state_dict'])
    status = _json(osp.join(work, 'status.json'))
    assert status['status'] == 'failed' and status['pid'] == os.getpid()
    assert status['error']['type'] == 'NonFiniteLossError'
    assert 'loss_src=nan' in status['error']['message']
    log = open(glob.glob(osp.join(work, '*.log'))[0]).read()
    assert 'Traceback (most recent call last)' in log
    assert 'NonFiniteLossError: non-finite loss at frame 1' in log


def test_nonfinite_loss_skip_counts_and_keeps_weights_finite(tiny, tmp_path):
    cfg = tiny['cfg'](tmp_path / 'skip', nonfinite_loss='skip')
    cfg.optimizer.lr = 1e30
    cfg.checkpoint_config = dict(by_epoch=False, interval=4)
    runner = train_online(cfg)
    summary = _json(osp.join(cfg.work_dir, 'summary.json'))
    assert summary['nonfinite_skipped'] == 11  # every step after frame 0
    assert _finite(runner.method.state_dict())
    assert _finite(load_checkpoint_file(osp.join(cfg.work_dir, 'latest.pth'))[
        'state_dict'])
    assert 'nan' not in open(osp.join(cfg.work_dir, 'results.csv')).read().lower()
    assert _json(osp.join(cfg.work_dir, 'status.json'))['status'] == 'finished'
    with pytest.raises(ValueError, match=r"nonfinite_loss must be one of \('stop', "
                                         r"'skip'\), got 'ignore'"):
        train_online(tiny['cfg'](tmp_path / 'bad', nonfinite_loss='ignore'))


# ------------------------------------------ 2 checks first, --overwrite aside
def _finished_run(tiny, path, **runner):
    cfg = tiny['cfg'](path, domain_order=['clear'], **runner)
    train_online(cfg)
    return cfg, {n: open(osp.join(cfg.work_dir, n), 'rb').read()
                 for n in ('results.json', 'summary.json', 'config.py')}


def _unchanged(work_dir, before):
    return all(open(osp.join(work_dir, n), 'rb').read() == b for n, b in before.items())


def test_bad_config_fails_before_the_work_dir_or_datasets(tiny, tmp_path):
    cfg, before = _finished_run(tiny, tmp_path / 'run')
    typo = tiny['cfg'](cfg.work_dir, domain_order=['clear'], frames_per_domian=2)
    typo.data.val = [dict(type='NoSuchDataset', name='x')]  # would fail if built
    with pytest.raises(KeyError, match=r"runner \(OnlineRunner\) has no key "
                                       r"'frames_per_domian' \(did you mean "
                                       r"'frames_per_domain'\?\)"):
        train_online(typo, overwrite=True)
    ev = tiny['cfg'](cfg.work_dir, domain_order=['clear'])
    ev.online_evaluation = dict(eval_domain='all')
    with pytest.raises(KeyError, match=r"'eval_domain' \(did you mean 'eval_domains'\?\)"):
        train_online(ev, overwrite=True)
    missing = tiny['cfg'](cfg.work_dir, domain_order=['clear'])
    missing.data.train[1]['data_root'] = str(tmp_path / 'moved')
    with pytest.raises(FileNotFoundError, match=r'data.train\[1\].data_root: .*moved '
                                                r'does not exist'):
        train_online(missing, overwrite=True)
    wrong = tiny['cfg'](cfg.work_dir, domain_order=['clear'])
    torch.save(dict(state_dict={'conv1.weight': torch.zeros(16, 3, 3, 3)}),
               str(tmp_path / 'b5.pth'))
    wrong.load_from = str(tmp_path / 'b5.pth')
    with pytest.raises(ValueError, match=r'conv1.weight: checkpoint \(16, 3, 3, 3\), '
                                         r'model \(8, 3, 3, 3\)'):
        train_online(wrong, overwrite=True)
    assert _unchanged(cfg.work_dir, before)
    assert not glob.glob(f'{cfg.work_dir}.*')


def test_overwrite_keeps_the_old_run_until_the_new_one_started(tiny, tmp_path):
    cfg, before = _finished_run(tiny, tmp_path / 'run')
    broken = tiny['cfg'](cfg.work_dir, domain_order=['clear'], frames_per_domain=2)
    broken.custom_hooks = [dict(type='FailAt', stage='before_run')]
    with pytest.raises(RuntimeError, match='boom at start'):
        train_online(broken, overwrite=True)
    assert _unchanged(cfg.work_dir, before)  # put back, config.py included
    assert not glob.glob(f'{cfg.work_dir}.*')

    seen = []

    class Spy(Hook):
        def before_run(self, runner):
            seen.append(glob.glob(f'{cfg.work_dir}.old-*'))

        def after_run(self, runner):
            seen.append(glob.glob(f'{cfg.work_dir}.old-*'))

    again = tiny['cfg'](cfg.work_dir, domain_order=['clear'], frames_per_domain=2)
    runner = _run_with_hook(again, Spy())
    assert len(seen[0]) == 1 and seen[1] == []  # aside during start, removed after
    assert runner.frames_done == 2
    assert _json(osp.join(cfg.work_dir, 'summary.json'))['frames'] == 2


def _run_with_hook(cfg, hook):
    """train_online with an extra hook object (registered before the stream)."""
    from online_src import OnlineRunner
    original = OnlineRunner.run

    def run(self, loaders, *a, **k):
        self.register_hook(hook, priority='VERY_HIGH')
        return original(self, loaders, *a, **k)

    OnlineRunner.run = run
    try:
        return train_online(cfg, overwrite=True)
    finally:
        OnlineRunner.run = original


# ------------------------------------------------------------- 3 the lock
HOLD_LOCK = """
import fcntl, json, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps(dict(pid=os.getpid(), host='h1', command='train.py other',
                             started='then')).encode())
print('locked', flush=True)
time.sleep(60)
"""


def test_busy_work_dir_is_refused_and_a_dead_lock_taken_over(tiny, tmp_path, caplog):
    cfg = tiny['cfg'](tmp_path / 'run', domain_order=['clear'])
    os.makedirs(cfg.work_dir)
    other = subprocess.Popen([sys.executable, '-c', HOLD_LOCK,
                              osp.join(cfg.work_dir, '.lock')], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert other.stdout.readline().strip() == 'locked'
        with pytest.raises(WorkDirBusyError, match=(
                rf'run is in use by pid {other.pid} on h1, started then: train.py '
                rf'other; wait for it to end or choose another --work-dir')):
            train_online(cfg)
        assert os.listdir(cfg.work_dir) == ['.lock']
    finally:
        other.kill()
        other.wait()
    train_online(cfg)  # the lock died with its process
    assert f'took over the stale lock of pid {other.pid} on h1' in caplog.text
    assert _json(osp.join(cfg.work_dir, 'status.json'))['status'] == 'finished'


# ------------------------------------------- 4, 5 unfinished runs and resume
def _crashed_run(tiny, path, frame=7):
    cfg = tiny['cfg'](path)
    cfg.checkpoint_config = dict(by_epoch=False, interval=2)
    cfg.custom_hooks = [dict(type='FailAt', stage='frame', frame=frame)]
    with pytest.raises(RuntimeError, match=f'boom at frame {frame}'):
        train_online(cfg)
    cfg.custom_hooks = []
    return cfg


def test_unfinished_work_dir_is_refused_with_the_commands(tiny, tmp_path):
    cfg = _crashed_run(tiny, tmp_path / 'run')
    status = _json(osp.join(cfg.work_dir, 'status.json'))
    assert status['status'] == 'failed' and status['error'] == dict(
        type='RuntimeError', message='boom at frame 7')
    latest = osp.join(cfg.work_dir, 'latest.pth')
    with pytest.raises(UnfinishedRunError) as err:
        train_online(cfg, command='python tools/train.py c.py')
    assert str(err.value).splitlines()[1:] == [
        f'  continue it:  python tools/train.py c.py --resume-from {latest}',
        '  start over:   python tools/train.py c.py --overwrite']
    # a writer killed mid-write left a temp file: removed at the next start
    open(osp.join(cfg.work_dir, '.tmp-x1y2'), 'wb').write(b'\0' * 1000)
    train_online(cfg, resume_from=latest)
    assert not glob.glob(osp.join(cfg.work_dir, '.tmp-*'))
    assert len(_json(osp.join(cfg.work_dir, 'results.json'))) == 5


def test_resume_into_a_new_work_dir_carries_the_rows(tiny, tmp_path):
    ref = tiny['cfg'](tmp_path / 'ref')
    train_online(ref)
    cfg = _crashed_run(tiny, tmp_path / 'a')
    new = tiny['cfg'](tmp_path / 'b')
    new.checkpoint_config = dict(by_epoch=False, interval=2)
    train_online(new, resume_from=osp.join(cfg.work_dir, 'iter_6.pth'))
    rows = _json(osp.join(new.work_dir, 'results.json'))
    ref_rows = _json(osp.join(ref.work_dir, 'results.json'))
    assert [r['after'] for r in rows] == ['init', 'clear', '25mm', '50mm', 'clear']
    assert [r['clear.mIoU'] for r in rows] == pytest.approx(
        [r['clear.mIoU'] for r in ref_rows], abs=1e-6)
    assert len(open(osp.join(new.work_dir, 'results.csv')).read().splitlines()) == 6
    # without the rows beside the checkpoint: refused, with the reason
    os.remove(osp.join(cfg.work_dir, 'results.json'))
    other = tiny['cfg'](tmp_path / 'c')
    other.checkpoint_config = dict(by_epoch=False, interval=2)
    with pytest.raises(FileNotFoundError, match=(
            r'the 2 evaluation row\(s\) before it \(results.json\) are not beside the '
            r'checkpoint')):
        train_online(other, resume_from=osp.join(cfg.work_dir, 'iter_6.pth'))


def test_resume_of_another_config_names_the_keys(tiny, tmp_path):
    cfg = _crashed_run(tiny, tmp_path / 'run')
    ckpt = osp.join(cfg.work_dir, 'iter_6.pth')
    cfg.optimizer.lr = 0.01
    with pytest.raises(ValueError, match=(
            r'written by another config \(config_hash \w+ != \w+\); keys that differ '
            r'\(checkpoint -> this run\):\n  optimizer.lr: 0.05 -> 0.01\n--force-resume '
            r'allows only changes of data_root')):
        train_online(cfg, resume_from=ckpt, force_resume=True)
    cfg.optimizer.lr = 0.05
    cfg.data_root = str(tmp_path)  # the data moved: a data location only
    with pytest.raises(ValueError, match=r"data_root: <absent> -> '.*'\npass "
                                         r"--force-resume if only the data moved"):
        train_online(cfg, resume_from=ckpt)
    runner = train_online(cfg, resume_from=ckpt, force_resume=True)
    assert runner.frames_done == 12
    meta = dict(config_hash='a', config_flat={'data.train.1.img_dir': "'x'"})
    check_resume_config('c.pth', meta, 'b', {'data.train.1.img_dir': "'y'"}, force=True)
    with pytest.raises(ValueError, match='does not store its config keys'):
        check_resume_config('c.pth', dict(config_hash='a'), 'b', {}, force=True)


# --------------------------------------------- 6 errors name file and frame
def test_unreadable_frame_names_file_domain_and_frame(tiny, tmp_path):
    if 'UnreadableFrames' not in DATASETS.module_dict:
        DATASETS.register_module(name='UnreadableFrames',
                                 module=unreadable_frames(tiny['TinyDomainDataset']))
    cfg = tiny['cfg'](tmp_path / 'run')
    cfg.data.train[2] = dict(type='UnreadableFrames', name='25mm', domain=25, bad=1)
    with pytest.raises(FrameLoadError, match=(
            r"cannot load frame 4 \(visit 1, domain '25mm', dataset index 1, file "
            r"/data/tiny/25mm/0001.png\): AttributeError: 'NoneType' object has no "
            r"attribute 'shape'")):
        train_online(cfg)
    assert _json(osp.join(cfg.work_dir, 'status.json'))['error']['type'] == \
        'FrameLoadError'


# ------------------------------------------------------- fault injection
def _stream_child(cfg, resume_from, overwrite, kill):
    """A run in a forked process that SIGKILLs itself at ``kill``."""
    import mmseg_ext.core.fileio as fileio
    torch.set_num_threads(1)
    kind, n = kill
    calls = [0]
    if kind == 'frame':
        cfg.custom_hooks = [dict(type='KillAt', frame=n)]
    elif kind in ('before_rename', 'mid_write'):
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd):  # the n-th file write: half its bytes on disk, then killed
            calls[0] += 1
            if kind == 'mid_write' and calls[0] == n:
                os.ftruncate(fd, os.fstat(fd).st_size // 2)
                os.kill(os.getpid(), signal.SIGKILL)
            return real_fsync(fd)

        def replace(src, dst):  # the n-th file complete but not renamed into place
            if kind == 'before_rename' and calls[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(src, dst)

        fileio.os.fsync, fileio.os.replace = fsync, replace
    train_online(cfg, resume_from=resume_from, overwrite=overwrite)


def test_random_sigkills_then_resume_equal_the_uninterrupted_run(tiny, tmp_path):
    def config(path):
        cfg = tiny['cfg'](path, controller=dict(detector=dict(
            enabled=True, type='relative', window=2, min_frames=2)))
        cfg.checkpoint_config = dict(by_epoch=False, interval=1)
        return cfg

    ref = config(tmp_path / 'ref')
    ref_runner = train_online(ref)
    rng = random.Random(0)
    # atomic writes per run: 1 per frame (the checkpoint; latest.pth is a symlink
    # renamed into place) + 3 per evaluation
    kills = [('mid_write', rng.randint(3, 14)), ('before_rename', rng.randint(3, 14)),
             ('frame', rng.randint(1, 3))]  # frames after the resumed checkpoint
    ctx = multiprocessing.get_context('fork')
    cfg = config(tmp_path / 'killed')
    for kill in kills:
        latest = osp.join(cfg.work_dir, 'latest.pth')
        resume = latest if osp.isfile(latest) else None
        if kill[0] == 'frame':
            done = load_checkpoint_file(latest)['meta']['iter'] if resume else 0
            kill = ('frame', done + kill[1])
        proc = ctx.Process(target=_stream_child,
                           args=(cfg, resume, resume is None, kill))
        proc.start()
        proc.join(60)
        assert proc.exitcode == -signal.SIGKILL, kill
        if kill[0] != 'frame':  # killed inside a write: its temp file is left
            assert glob.glob(osp.join(cfg.work_dir, '.tmp-*')), kill
        assert not osp.isfile(osp.join(cfg.work_dir, 'summary.json'))
    runner = train_online(cfg, resume_from=osp.join(cfg.work_dir, 'latest.pth'))
    assert not glob.glob(osp.join(cfg.work_dir, '.tmp-*'))
    rows, ref_rows = (_json(osp.join(w, 'results.json')) for w in (cfg.work_dir,
                                                                   ref.work_dir))
    strip = ('eval_seconds',)
    assert [{k: v for k, v in r.items() if k not in strip} for r in rows] == \
        [{k: v for k, v in r.items() if k not in strip} for r in ref_rows]
    mine, theirs = runner.method.state_dict(), ref_runner.method.state_dict()
    assert list(mine) == list(theirs)
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)
    summary, ref_summary = (_json(osp.join(w, 'summary.json')) for w in (cfg.work_dir,
                                                                         ref.work_dir))
    assert summary['stream_accuracy'] == ref_summary['stream_accuracy']
    assert np.load(osp.join(cfg.work_dir, 'fps.npy')).shape == (12, 4)


def test_unreadable_cityscapes_frame_names_its_file(tiny, tmp_path):
    """A real file on disk, overwritten after the dataset was built."""
    import cv2
    from mmcv.utils import get_logger
    from mmseg.datasets import build_dataset
    from online_src import OnlineRunner
    root = tmp_path / 'cityscapes'
    for i in range(2):
        name = f'bonn_{i:06d}_000019'
        for sub, suffix, array in (
                ('leftImg8bit', 'leftImg8bit', np.full((8, 16, 3), 100, np.uint8)),
                ('gtFine', 'gtFine_labelTrainIds', np.zeros((8, 16), np.uint8))):
            os.makedirs(root / sub / 'train' / 'bonn', exist_ok=True)
            cv2.imwrite(str(root / sub / 'train' / 'bonn' / f'{name}_{suffix}.png'), array)
    ds = build_dataset(dict(
        type='CityscapesDomainDataset', name='25mm', domain=25, data_root=str(root),
        img_dir='leftImg8bit/train', ann_dir='gtFine/train',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='DefaultFormatBundle'),
                  dict(type='Collect', keys=['img', 'gt_semantic_seg'],
                       meta_keys=('filename', 'ori_shape', 'img_shape'))]))
    bad = root / 'leftImg8bit' / 'train' / 'bonn' / 'bonn_000001_000019_leftImg8bit.png'
    bad.write_bytes(b'\x89PNG truncated')
    runner = OnlineRunner(tiny['TinyMethod'](), work_dir=str(tmp_path),
                          logger=get_logger('test'))
    runner.frames_done = 5
    assert runner._load_frame(ds, [0], 1, '25mm')['img'].data[0].shape == (1, 3, 8, 16)
    with pytest.raises(FrameLoadError, match=(
            rf"cannot load frame 5 \(visit 1, domain '25mm', dataset index 1, file "
            rf"{bad}\): AttributeError: 'NoneType' object has no attribute 'shape'")):
        runner._load_frame(ds, [1], 1, '25mm')
