"""Source training through tools/train.py on a tiny synthetic dataset, the
parameter-wise optimizer constructor and encoder freezing."""
import json
import os
import os.path as osp
import sys

import mmcv
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv import Config
from mmcv.runner import build_optimizer
from mmseg.models import build_segmentor

from mmseg_ext.apis import freeze_encoder
from mmseg_ext.core import load_checkpoint

COLOURS = np.array([[200, 40, 40], [40, 200, 40], [40, 40, 200]], np.uint8)
TINY_MODEL = dict(
    type='CustomEncoderDecoder',
    backbone=dict(type='MixTransformer', embed_dims=[8, 16, 24, 32],
                  num_heads=[1, 2, 3, 4], depths=[1, 1, 1, 1]),
    decode_head=dict(type='SegformerHead', in_channels=[8, 16, 24, 32],
                     in_index=[0, 1, 2, 3], channels=16, num_classes=3,
                     norm_cfg=dict(type='BN', requires_grad=True), align_corners=False),
    train_cfg=dict(), test_cfg=dict(mode='whole'))


def make_dataset(root, n, seed):
    """Images of three vertical colour bands (random widths) with noise; the label
    of a pixel is its band's colour."""
    rng = np.random.default_rng(seed)
    for sub in ('img', 'ann'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for i in range(n):
        cuts = np.sort(rng.integers(8, 56, size=2))
        label = np.zeros((64, 64), np.uint8)
        label[:, cuts[0]:] = 1
        label[:, cuts[1]:] = 2
        order = rng.permutation(3)
        label = order[label].astype(np.uint8)
        img = COLOURS[label].astype(np.int16) + rng.integers(-40, 40, (64, 64, 3))
        img = np.clip(img, 0, 255).astype(np.uint8)
        mmcv.imwrite(img, osp.join(root, 'img', f'{i}.png'))
        mmcv.imwrite(label, osp.join(root, 'ann', f'{i}.png'))


def write_config(tmp_path, repo_root):
    for split, n, seed in (('train', 16, 0), ('val', 6, 1)):
        make_dataset(str(tmp_path / split), n, seed)
    base = osp.join(repo_root, 'configs', '_base_')
    text = f"""
_base_ = ['{base}/default_runtime.py', '{base}/schedules/adamw.py',
          '{base}/schedules/poly10warm.py', '{base}/schedules/source_40k.py']
model = {TINY_MODEL!r}
img_norm_cfg = dict(mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0], to_rgb=True)
common = dict(type='CustomDataset', classes=('a', 'b', 'c'),
              palette=[[200, 40, 40], [40, 200, 40], [40, 40, 200]],
              img_suffix='.png', seg_map_suffix='.png')
data = dict(
    samples_per_gpu=4, workers_per_gpu=0,
    train=dict(common, data_root='{tmp_path}/train', img_dir='img', ann_dir='ann',
               pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                         dict(type='RandomFlip', prob=0.5),
                         dict(type='Normalize', **img_norm_cfg),
                         dict(type='DefaultFormatBundle'),
                         dict(type='Collect', keys=['img', 'gt_semantic_seg'])]),
    val=dict(common, data_root='{tmp_path}/val', img_dir='img', ann_dir='ann',
             pipeline=[dict(type='LoadImageFromFile'),
                       dict(type='MultiScaleFlipAug', img_scale=(64, 64), flip=False,
                            transforms=[dict(type='Resize', keep_ratio=True),
                                        dict(type='Normalize', **img_norm_cfg),
                                        dict(type='ImageToTensor', keys=['img']),
                                        dict(type='Collect', keys=['img'])])]))
optimizer = dict(lr=2e-3)
lr_config = dict(warmup_iters=5)
runner = dict(max_iters=40)
checkpoint_config = dict(interval=20)
evaluation = dict(interval=40)
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook', by_epoch=False)])
name = 'it\\'s the "tiny" source run'
"""
    path = tmp_path / 'tiny_source.py'
    path.write_text(text)
    return str(path)


def test_source_training_reaches_miou(tmp_path, repo_root):
    sys.path.insert(0, osp.join(repo_root, 'tools'))
    try:
        import train as train_tool
    finally:
        sys.path.pop(0)
    cfg_path = write_config(tmp_path, repo_root)
    work = tmp_path / 'work'
    runner = train_tool.main([cfg_path, '--work-dir', str(work), '--seed', '0',
                              '--cfg-options', 'optimizer.weight_decay=0.01'])
    assert runner.iter == 40
    logs = [json.loads(line) for f in os.listdir(work) if f.endswith('.log.json')
            for line in open(work / f) if '"mode": "val"' in line]
    miou = logs[-1]['mIoU']
    assert miou > 0.6  # chance is about 1/3 of the pixels right, mIoU ~0.2
    # atomic checkpoints: files in place, latest.pth points to the last, no leftovers
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == [
        'best_mIoU_iter_40.pth', 'iter_20.pth', 'iter_40.pth', 'latest.pth']
    assert os.readlink(work / 'latest.pth') == 'iter_40.pth'
    assert not [f for f in os.listdir(work) if f.startswith('.tmp-')]
    model = build_segmentor(Config(dict(m=TINY_MODEL)).m)
    ckpt = load_checkpoint(model, str(work / 'latest.pth'))
    assert ckpt['meta']['iter'] == 40 and ckpt['meta']['CLASSES'] == ('a', 'b', 'c')
    # the config written to the work dir (quotes in a string and all) loads back,
    # and is the text the checkpoints carry
    assert Config.fromfile(str(work / 'tiny_source.py')).name == 'it\'s the "tiny" source run'
    assert ckpt['meta']['config'] == (work / 'tiny_source.py').read_text()
    trained = runner.model.module.state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in model.state_dict().items())
    # resume: iterations 21 and 22 follow the 20 of the checkpoint
    resumed = train_tool.main([cfg_path, '--work-dir', str(tmp_path / 'resumed'),
                               '--resume-from', str(work / 'iter_20.pth'),
                               '--no-validate', '--cfg-options', 'runner.max_iters=22'])
    assert resumed.iter == 22
    assert load_checkpoint(model, str(tmp_path / 'resumed' / 'latest.pth'))['meta'][
        'iter'] == 22


def _losses(work):
    """iteration -> logged loss of a source run (log_config.interval=1)."""
    logs = [json.loads(line) for f in sorted(os.listdir(work)) if f.endswith('.log.json')
            for line in open(work / f)]
    return {r['iter']: r['loss'] for r in logs if r.get('mode') == 'train'}


def test_source_resume_is_exact(tmp_path, repo_root):
    """Killed after iteration 10 (mid-pass: 16 images in batches of 4) and resumed
    from iter_10.pth, a source run logs the same losses for iterations 11..20
    and ends with the same weights, bit for bit, as the uninterrupted run: the
    pass's sample order and position, every RNG (random flip, drop-path) and the
    optimizer state come from the checkpoint."""
    sys.path.insert(0, osp.join(repo_root, 'tools'))
    try:
        import train as train_tool
    finally:
        sys.path.pop(0)
    cfg_path = write_config(tmp_path, repo_root)
    opts = ['--no-validate', '--seed', '0', '--cfg-options', 'runner.max_iters=20',
            'checkpoint_config.interval=10', 'log_config.interval=1',
            'model.backbone.drop_path_rate=0.3']
    full = train_tool.main([cfg_path, '--work-dir', str(tmp_path / 'full')] + opts)
    resumed = train_tool.main([cfg_path, '--work-dir', str(tmp_path / 'resumed'),
                               '--resume-from', str(tmp_path / 'full' / 'iter_10.pth')]
                              + opts)
    assert resumed.iter == full.iter == 20
    a, b = _losses(tmp_path / 'full'), _losses(tmp_path / 'resumed')
    assert sorted(b) == list(range(11, 21))
    assert [b[i] for i in range(11, 21)] == [a[i] for i in range(11, 21)]
    assert len({a[i] for i in range(11, 21)}) == 10  # the losses do move
    final_a = full.model.module.state_dict()
    final_b = resumed.model.module.state_dict()
    assert all(torch.equal(final_a[k], v) for k, v in final_b.items())
    # iteration 10 is the third pass (epoch 2), 2 batches of 4 into it
    ckpt = torch.load(tmp_path / 'full' / 'iter_10.pth', weights_only=False)
    assert ckpt['meta']['resume_state']['loaders'][0]['sampler']['pos'] == 8
    assert ckpt['meta']['resume_state']['loaders'][0]['epoch'] == 2


def test_cycling_loader_never_stops():
    from mmcv.runner.iter_based_runner import IterLoader
    from torch.utils.data import DataLoader

    from mmseg_ext.core.atomic_runner import _CyclingLoader

    class Sampler(list):
        epochs = []

        def set_epoch(self, epoch):
            self.epochs.append(epoch)

    loader = _CyclingLoader(DataLoader([1, 2, 3], sampler=Sampler([0, 1, 2])))
    it = IterLoader(loader)  # would sleep 2 s at each StopIteration
    assert [int(next(it)) for _ in range(7)] == [1, 2, 3, 1, 2, 3, 1]
    assert Sampler.epochs == [1, 2] and len(loader) == 3 and it.epoch == 0
    # mid-pass state: a new loader continues where this one stands
    state = loader.state_dict()
    assert state == dict(epoch=2, sampler=dict(order=[0, 1, 2], pos=1))
    shuffled = _CyclingLoader(DataLoader([10, 20, 30, 40], shuffle=True))
    first = iter(shuffled)
    seen = [int(next(first)) for _ in range(6)]
    again = _CyclingLoader(DataLoader([10, 20, 30, 40], shuffle=True))
    again.load_state_dict(dict(epoch=1, sampler=dict(order=shuffled.replay.order,
                                                     pos=2)))
    rest = iter(again)
    assert [int(next(rest)) for _ in range(2)] == [int(next(first)) for _ in range(2)]
    assert sorted(seen[:4]) == [10, 20, 30, 40]


class Shared(nn.Module):
    """A 'backbone' whose adapter holds one of its layers a second time."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.adapter = nn.ModuleDict(dict(wrapped=self.backbone[0],
                                          pos_block=nn.Linear(4, 4)))
        self.decode_head = nn.Linear(4, 2)


def test_optimizer_constructor_groups():
    cfg = dict(type='AdamW', lr=1e-3, weight_decay=0.01,
               constructor='ParamWiseOptimizerConstructor',
               paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.),
                                                   pos_block=dict(decay_mult=0.),
                                                   norm=dict(decay_mult=0.))))
    model = Shared()
    optim = build_optimizer(model, cfg)  # mmcv's default constructor raises here
    settings = {(g['lr'], g['weight_decay']): sorted(g['names'])
                for g in optim.param_groups}
    assert settings == {
        (1e-3, 0.01): ['backbone.0.bias', 'backbone.0.weight', 'backbone.1.bias',
                       'backbone.1.weight'],
        (1e-3, 0.0): ['adapter.pos_block.bias', 'adapter.pos_block.weight'],
        (1e-2, 0.01): ['decode_head.bias', 'decode_head.weight']}
    n_params = sum(len(g['params']) for g in optim.param_groups)
    assert n_params == len(list(model.parameters())) == 8
    # 'backbone.1' is a LayerNorm without 'norm' in its name: norm_decay_mult finds it
    by_type = build_optimizer(model, dict(cfg, paramwise_cfg=dict(norm_decay_mult=0.)))
    ln = {n: g['weight_decay'] for g in by_type.param_groups for n in g['names']}
    assert ln['backbone.1.weight'] == 0. and ln['backbone.0.weight'] == 0.01
    with pytest.raises(ValueError, match='more than one parameter group'):
        build_optimizer(model, dict(type='AdamW', lr=1e-3, paramwise_cfg=dict(
            custom_keys=dict(head=dict(lr_mult=10.)))))
    with pytest.raises(ValueError, match=r"unknown paramwise_cfg keys \['decay'\]"):
        build_optimizer(model, dict(cfg, paramwise_cfg=dict(decay=0.)))


def test_freeze_encoder_keeps_backbone_fixed():
    model = build_segmentor(Config(dict(m=TINY_MODEL)).m)
    n = freeze_encoder(model)
    assert n == sum(p.numel() for p in model.backbone.parameters()) > 0
    model.train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.decode_head.parameters())
    assert not model.backbone.blocks[0].training  # no drop-path in frozen stages


def test_runner_refuses_checkpoint_of_another_width(tmp_path):
    from mmcv.utils import get_logger

    from mmseg_ext.core import AtomicIterBasedRunner
    narrow = build_segmentor(Config(dict(m=TINY_MODEL)).m)
    torch.save(dict(state_dict=narrow.state_dict(), meta={}), str(tmp_path / 'narrow.pth'))
    wide_cfg = Config(dict(m=TINY_MODEL)).m
    wide_cfg.decode_head.channels = 24
    runner = AtomicIterBasedRunner(model=build_segmentor(wide_cfg), work_dir=str(tmp_path),
                                   logger=get_logger('test'), max_iters=1)
    with pytest.raises(ValueError, match=r'(?s)another model size or decoder width.*'
                                         r'decode_head.fusion_conv.conv.weight: '
                                         r'checkpoint \(16, 64, 1, 1\), '
                                         r'model \(24, 96, 1, 1\)'):
        runner.load_checkpoint(str(tmp_path / 'narrow.pth'))
    # the same width loads, and the returned checkpoint carries the meta for resume
    runner = AtomicIterBasedRunner(model=build_segmentor(Config(dict(m=TINY_MODEL)).m),
                                   work_dir=str(tmp_path), logger=get_logger('test'),
                                   max_iters=1)
    assert runner.load_checkpoint(str(tmp_path / 'narrow.pth'))['meta'] == {}
    assert torch.equal(runner.model.decode_head.conv_seg.weight,
                       narrow.decode_head.conv_seg.weight)


@pytest.mark.parametrize('name', ['segformer_mit-b0_proccity_clear',
                                  'segformer_mit-b1_proccity_clear_imagenet',
                                  'segformer_mit-b1_cityscapes'])
def test_source_configs(repo_root, name):
    from mmseg_ext.models import build_train_model
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'source', f'{name}.py'))
    assert cfg.runner.type == 'AtomicIterBasedRunner'
    assert cfg.optimizer.constructor == 'ParamWiseOptimizerConstructor'
    assert cfg.freeze_encoder is False and cfg.trusted_checkpoint is False
    assert cfg.data.train.name == 'clear'
    head_mult = cfg.optimizer.paramwise_cfg.custom_keys.head.lr_mult
    from_scratch = cfg.model.backbone.pretrained is None  # one high rate everywhere
    assert (cfg.optimizer.lr, head_mult) == ((1e-3, 1.) if from_scratch else (6e-5, 10.))
    cfg.model.backbone.pretrained = None  # no weights on disk in CI
    model = build_train_model(cfg)
    assert model.decode_head.channels == 256 and model.decode_head.num_classes == 19


def _train_tool(repo_root):
    sys.path.insert(0, osp.join(repo_root, 'tools'))
    try:
        import train as train_tool
    finally:
        sys.path.pop(0)
    return train_tool


def test_source_nonfinite_loss_stops_or_skips(tmp_path, repo_root):
    from mmseg_ext.core.run_safety import NonFiniteLossError, NonFiniteLossHook
    train_tool = _train_tool(repo_root)
    cfg_path = write_config(tmp_path, repo_root)
    work = tmp_path / 'nan'
    args = [cfg_path, '--work-dir', str(work), '--seed', '0', '--no-validate',
            '--cfg-options', 'optimizer.lr=1e30', 'lr_config.warmup=None',
            'runner.max_iters=4', 'checkpoint_config.interval=1']
    with pytest.raises(NonFiniteLossError, match=r'non-finite loss at iteration 2: '
                                                 r'decode.loss_ce=nan, .*loss=nan'):
        train_tool.main(args)
    status = json.load(open(work / 'status.json'))
    assert (status['status'], status['error']['type']) == ('failed', 'NonFiniteLossError')
    log = open(next(work.glob('*.log'))).read()
    assert 'Traceback' in log and 'NonFiniteLossError: non-finite loss at iteration 2' in log
    model = build_segmentor(Config(dict(m=TINY_MODEL)).m)
    assert load_checkpoint(model, str(work / 'latest.pth'))['meta']['iter'] == 1
    runner = train_tool.main(args[:-1] + ['checkpoint_config.interval=4',
                                          'runner.nonfinite_loss=skip',
                                          '--work-dir', str(tmp_path / 'skip')])
    hook = next(h for h in runner.hooks if isinstance(h, NonFiniteLossHook))
    assert runner.iter == 4 and hook.skipped == 3
    assert all(bool(torch.isfinite(v.float()).all())
               for v in runner.model.module.state_dict().values())
    assert json.load(open(tmp_path / 'skip' / 'status.json'))['status'] == 'finished'


def test_source_config_errors_before_the_work_dir(tmp_path, repo_root):
    train_tool = _train_tool(repo_root)
    cfg_path = write_config(tmp_path, repo_root)
    work = tmp_path / 'typo'
    with pytest.raises(KeyError, match=r"runner \(AtomicIterBasedRunner\) has no key "
                                       r"'max_iter' \(did you mean 'max_iters'\?\)"):
        train_tool.main([cfg_path, '--work-dir', str(work), '--cfg-options',
                         'runner.max_iter=3'])
    with pytest.raises(FileNotFoundError, match=r'load_from checkpoint .*none.pth does '
                                                r'not exist'):
        train_tool.main([cfg_path, '--work-dir', str(work), '--load-from',
                         str(tmp_path / 'none.pth')])
    assert not work.exists()
