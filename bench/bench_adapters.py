"""Cost of one adaptation step of each parameter-efficient configuration.

For SegFormer MiT-B1 at the demo resolution, per configuration: trainable and
total parameters, and the time of the forward (loss included) and of the
backward of one training step relative to full fine-tuning. The configurations
are measured interleaved (one step of each, round after round); each ratio is
taken within a round, where load from other processes hits both sides alike,
and the median over the rounds is reported.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_adapters.py --rounds 15

Goal (issue 5): the backward of the frozen backbone with late-stage adapters at
or below 35% of full fine-tuning.
"""
import argparse
import logging
import os.path as osp
from statistics import median
import time

import torch
from mmcv import Config
from mmcv.utils import get_logger
from mmseg.models import build_segmentor
from prettytable import PrettyTable

import mmseg_ext  # noqa: F401  (registers the models)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = osp.join(REPO, 'configs', '_base_', 'models')
# name -> config file (full fine-tuning first: the reference)
CONFIGS = {
    'full fine-tune': 'segformer_mit-b1.py',
    'adapter-half': 'segformer_mit-b1_adapter-half.py',
    'adapter-full': 'segformer_mit-b1_adapter-full.py',
    'vitadapter': 'segformer_mit-b1_vitadapter.py',
    'vida': 'segformer_mit-b1_vida.py',
    'evp': 'segformer_mit-b1_evp.py',
    'cvp': 'segformer_mit-b1_cvp.py',
    'frozen + late adapters': 'segformer_mit-b1_frozen-late-adapter.py',
}


def build(config_file):
    """The segmentor of a model config, initialised, in train mode."""
    cfg = Config.fromfile(osp.join(MODELS, config_file))
    model = build_segmentor(cfg.model)
    model.init_weights()
    return model.train()


def step_times(model, img, metas, gt):
    """Seconds of the forward (with losses) and of the backward of one step."""
    model.zero_grad(set_to_none=True)
    start = time.perf_counter()
    losses = model.forward_train(img, metas, gt)
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    mid = time.perf_counter()
    loss.backward()
    end = time.perf_counter()
    return mid - start, end - mid


def count(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--height', type=int, default=128)
    parser.add_argument('--width', type=int, default=256)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--rounds', type=int, default=7, help='measured rounds')
    parser.add_argument('--warmup', type=int, default=2, help='unmeasured rounds')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--configs', nargs='+', default=list(CONFIGS),
                        choices=list(CONFIGS), help='first one is the reference')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    get_logger('mmcv').setLevel(logging.WARNING)  # no per-parameter init report
    torch.manual_seed(0)

    h, w = args.height, args.width
    img = torch.randn(args.batch, 3, h, w)
    gt = torch.randint(0, 19, (args.batch, 1, h, w))
    metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                  flip=False)] * args.batch
    models = {name: build(CONFIGS[name]) for name in args.configs}
    times = {name: ([], []) for name in models}
    for r in range(args.warmup + args.rounds):
        for name, model in models.items():
            fwd, bwd = step_times(model, img, metas, gt)
            if r >= args.warmup:
                times[name][0].append(fwd)
                times[name][1].append(bwd)

    ref = args.configs[0]
    ref_fwd, ref_bwd = times[ref]
    ref_trainable, _ = count(models[ref])
    table = PrettyTable(['config', 'trainable', 'total', 'fewer x', 'fwd ms', 'bwd ms',
                         'fwd rel', 'bwd rel', 'step rel'])
    for name, model in models.items():
        trainable, total = count(model)
        fwd, bwd = times[name]
        # ratios within a round (same load), then their median over the rounds
        rel_fwd = median(f / r for f, r in zip(fwd, ref_fwd))
        rel_bwd = median(b / r for b, r in zip(bwd, ref_bwd))
        rel_step = median((f + b) / (rf + rb)
                          for f, b, rf, rb in zip(fwd, bwd, ref_fwd, ref_bwd))
        table.add_row([name, f'{trainable:,}', f'{total:,}',
                       f'{ref_trainable / trainable:.1f}', f'{median(fwd) * 1e3:.0f}',
                       f'{median(bwd) * 1e3:.0f}', f'{rel_fwd:.0%}', f'{rel_bwd:.0%}',
                       f'{rel_step:.0%}'])
    print(f'MiT-B1 SegFormer, {args.batch}x3x{h}x{w}, {args.threads} thread(s), '
          f'{args.rounds} interleaved rounds (after {args.warmup} warm-up): median ms, '
          f'and median over rounds of the ratio to {ref!r} in the same round')
    print(table)


if __name__ == '__main__':
    main()
