"""What an online run started by tools/train.py shows and logs: a progress bar
with its ETA, the training loss on streams shorter than the log interval, and
TensorBoard scalars stepped by frames with the evaluation before the stream."""
import importlib.util
import json
import os
import os.path as osp

import pytest
from mmcv import Config
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def _train_tool(repo_root):
    spec = importlib.util.spec_from_file_location('train_tool',
                                                  osp.join(repo_root, 'tools', 'train.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_online_run_shows_progress_and_logs_every_frame(tiny, tmp_path, repo_root, capsys):
    runtime = Config.fromfile(osp.join(repo_root, 'configs', '_base_',
                                       'default_runtime.py'))
    online = Config.fromfile(osp.join(repo_root, 'configs', '_base_', 'online',
                                      'online_runner.py'))
    cfg = tiny['cfg'](tmp_path / 'unused', frames_per_domain=2,
                      domain_order=['clear', '25mm'])
    cfg.log_config = runtime.log_config  # the defaults every config inherits
    cfg.log_config.interval = 30  # longer than the 4-frame stream
    cfg.log_config.hooks[1]['interval'] = 1  # TensorBoard: every frame
    cfg.progress_bar = online.progress_bar
    cfg_file = str(tmp_path / 'tiny_online.py')
    cfg.dump(cfg_file)
    work = tmp_path / 'run'
    _train_tool(repo_root).main([cfg_file, '--work-dir', str(work)])
    err = capsys.readouterr().err
    # tqdm: "run: 100%|...| 4/4 [00:01<00:00, 3.1it/s]" (elapsed<remaining = ETA)
    last = [line for line in err.replace('\r', '\n').splitlines() if '4/4' in line]
    assert last and last[-1].startswith('run: 100%') and '<00:00' in last[-1]
    # the text/JSON log has the training loss of each visit although 4 < 30
    logs = [json.loads(line) for f in sorted(os.listdir(work)) if f.endswith('.log.json')
            for line in open(work / f)]
    train = [r for r in logs if r.get('mode') == 'train' and 'loss_src' in r]
    assert [r['iter'] for r in train] == [2, 4]
    # TensorBoard: per-frame training scalars at steps 1..4, held-out mIoU at 0
    # (before the stream), 2 and 4 (after each visit)
    events = list((work / 'tf_logs').glob('events.out.tfevents.*'))
    acc = EventAccumulator(str(events[0]))
    acc.Reload()
    assert [e.step for e in acc.Scalars('train/loss_src')] == [1, 2, 3, 4]
    assert [e.step for e in acc.Scalars('val/clear.mIoU')] == [0, 2, 4]
    with open(work / 'results.json') as f:
        rows = json.load(f)
    assert [e.value for e in acc.Scalars('val/clear.mIoU')] == pytest.approx(
        [r['clear.mIoU'] for r in rows], abs=1e-4)
