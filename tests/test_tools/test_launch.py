"""Multi-process launch (tools/train.py --launcher pytorch|slurm on CPU, gloo) and
the SLURM batch scripts of run_experiments.py --launcher slurm."""
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmseg_ext.apis.dist import slurm_env
from online_src.apis.launch import sbatch_script, write_sbatch_scripts

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CFG = """
_base_ = ['{repo}/configs/_base_/models/segformer_mit-b0.py',
          '{repo}/configs/_base_/default_runtime.py']
model = dict(
    backbone=dict(embed_dims=[8, 16, 32, 32], num_heads=[1, 1, 1, 1],
                  depths=[1, 1, 1, 1], drop_path_rate=0.0),
    # GroupNorm: per-sample statistics, so a split batch normalises the same way
    decode_head=dict(in_channels=[8, 16, 32, 32], channels=16, dropout_ratio=0.0,
                     norm_cfg=dict(type='GN', num_groups=4, requires_grad=True)))
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                    to_rgb=True)
pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
    dict(type='Normalize', **img_norm_cfg), dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg'],
         meta_keys=('filename', 'ori_shape', 'img_shape', 'img_norm_cfg'))]
data = dict(samples_per_gpu=2, workers_per_gpu=0, train_dataloader=dict(shuffle=False),
            train=dict(type='CityscapesDataset', data_root='{data}', img_dir='img',
                       ann_dir='ann', pipeline=pipeline))
optimizer = dict(type='AdamW', lr=1e-3, weight_decay=0.0)
optimizer_config = dict()
lr_config = dict(policy='fixed')
runner = dict(type='IterBasedRunner', max_iters=2)
checkpoint_config = None
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook', by_epoch=False)])
"""


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def train_cfg(tmp_path_factory):
    """A tiny source-training config on 4 random 32x64 Cityscapes-layout images."""
    root = tmp_path_factory.mktemp('launch')
    rng = np.random.RandomState(0)
    for sub in ('img', 'ann'):
        (root / 'data' / sub).mkdir(parents=True)
    for i in range(4):
        img = rng.randint(0, 255, (32, 64, 3), np.uint8)
        label = (img[..., 0] // 64 + 3 * (img[..., 1] > 128)).astype(np.uint8)
        cv2.imwrite(str(root / 'data' / 'img' / f's{i}_leftImg8bit.png'), img)
        cv2.imwrite(str(root / 'data' / 'ann' / f's{i}_gtFine_labelTrainIds.png'), label)
    cfg = root / 'cfg.py'
    cfg.write_text(CFG.format(repo=REPO, data=root / 'data'))
    return root, str(cfg)


def _losses(work_dir):
    (log, ) = glob.glob(osp.join(work_dir, '*.log.json'))
    rows = [json.loads(line) for line in open(log)]
    return [r['loss'] for r in rows if r.get('mode') == 'train']


def _train(args, env=None):
    proc = subprocess.run(args, cwd=REPO, env={**os.environ, 'OMP_NUM_THREADS': '1',
                                               **(env or {})},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]


@pytest.fixture(scope='module')
def single_losses(train_cfg):
    """Losses of one process on batches of 2 images (the reference)."""
    root, cfg = train_cfg
    _train([sys.executable, 'tools/train.py', cfg, '--no-validate', '--work-dir',
            str(root / 'single')])
    losses = _losses(root / 'single')
    assert len(losses) == 2
    assert losses[0] != pytest.approx(losses[1], rel=1e-6)  # the step changed it
    return losses


def test_two_processes_match_one_process_on_the_concatenated_batch(train_cfg,
                                                                   single_losses):
    """2 CPU processes x 1 image (torchrun, gloo) == 1 process x 2 images."""
    root, cfg = train_cfg
    train = [sys.executable, 'tools/train.py', cfg, '--no-validate']
    _train([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
            '--master_port', str(_free_port())] + train[1:] +
           ['--work-dir', str(root / 'ddp'), '--launcher', 'pytorch',
            '--cfg-options', 'data.samples_per_gpu=1'])
    # the logged loss is the all-reduced mean; iteration 2 comes after one
    # optimizer step on the all-reduced (averaged) gradients
    assert _losses(root / 'ddp') == pytest.approx(single_losses, rel=1e-4)


def test_slurm_launcher_on_cpu(train_cfg, single_losses):
    """Two srun-like tasks (SLURM_* variables) train with gloo like torchrun."""
    root, cfg = train_cfg
    port = str(_free_port())
    procs = []
    for rank in range(2):
        env = {**os.environ, 'OMP_NUM_THREADS': '1', 'SLURM_PROCID': str(rank),
               'SLURM_LOCALID': str(rank), 'SLURM_NTASKS': '2',
               'SLURM_NODELIST': 'localhost', 'MASTER_ADDR': '127.0.0.1',
               'MASTER_PORT': port}
        procs.append(subprocess.Popen(
            [sys.executable, 'tools/train.py', cfg, '--no-validate', '--launcher',
             'slurm', '--work-dir', str(root / 'slurm'), '--cfg-options',
             'data.samples_per_gpu=1'], cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs[0][-3000:] + outs[1][-3000:]
    assert _losses(root / 'slurm') == pytest.approx(single_losses, rel=1e-4)


def test_slurm_env_contract():
    env = slurm_env({'SLURM_PROCID': '3', 'SLURM_NTASKS': '8', 'SLURM_LOCALID': '1',
                     'SLURM_NODELIST': 'node[01-02]', 'MASTER_ADDR': 'node01'})
    assert env == dict(RANK='3', WORLD_SIZE='8', LOCAL_RANK='1', MASTER_ADDR='node01',
                       MASTER_PORT='29500')
    with pytest.raises(KeyError, match=r"SLURM task variables \['SLURM_NTASKS'"):
        slurm_env({'SLURM_PROCID': '0', 'SLURM_NODELIST': 'n1'})


def test_sbatch_scripts_per_config(tmp_path):
    runs = [dict(name=f'run{i}', cfg_file=str(tmp_path / f'run{i}.json'),
                 work_dir=str(tmp_path / 'work' / f'run{i}')) for i in range(3)]
    files = write_sbatch_scripts(runs, str(tmp_path / 'gen'), partition='gpu', gpus=2,
                                 time='1-02:00:00', cpus_per_task=6, python='python3')
    assert [osp.basename(f) for f in files] == ['run0.sbatch', 'run1.sbatch',
                                               'run2.sbatch']
    text = open(files[1]).read()
    for line in ('#SBATCH --job-name=run1', '#SBATCH --partition=gpu',
                 '#SBATCH --ntasks-per-node=2', '#SBATCH --gres=gpu:2',
                 '#SBATCH --time=1-02:00:00', '#SBATCH --cpus-per-task=6',
                 f'#SBATCH --output={tmp_path}/work/run1/slurm-%j.out',
                 f'srun python3 -u tools/train.py {tmp_path}/run1.json --launcher slurm'):
        assert line in text.splitlines()
    assert all(osp.isdir(r['work_dir']) for r in runs)  # SLURM's --output folder
    submit = open(tmp_path / 'gen' / 'submit_all.sh').read().splitlines()
    assert [s.split()[-1] for s in submit if s.startswith('sbatch')] == files
    # one GPU: a single task, no process group
    one = sbatch_script('c.json', 'r', '/w', 'short', 1, '30:00', python='py')
    assert 'srun py -u tools/train.py c.json --launcher none' in one.splitlines()
    assert '#SBATCH --ntasks-per-node=1' in one.splitlines()


@pytest.mark.parametrize('kwargs, match', [
    (dict(partition='', gpus=1, time='1:00:00'), '--partition must be'),
    (dict(partition='gpu', gpus=-1, time='1:00:00'), '--gpus must be >= 0'),
    (dict(partition='gpu', gpus=1, time='one hour'), "--time must be SLURM's"),
])
def test_bad_slurm_flags(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_sbatch_scripts([dict(name='r', cfg_file='c', work_dir='w')],
                             str(tmp_path), **kwargs)
    assert not osp.exists(tmp_path / 'r.sbatch')


def test_init_dist_env_bad_input(monkeypatch):
    from mmseg_ext.apis.dist import init_dist_env
    with pytest.raises(ValueError, match=r"launcher must be one of \('none', 'pytorch', "
                                         r"'slurm'\), got 'mpi'"):
        init_dist_env('mpi')
    assert init_dist_env('none') is False
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)  # the CPU path
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(KeyError, match='start the processes with torchrun'):
        init_dist_env('pytorch')
