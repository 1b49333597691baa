"""Per-phase cost of the DACS adaptation step, two models side by side.

Profiles (line_profiler, :mod:`online_src.apis.profile`) the DACS step of
SegFormer MiT-B1 with full fine-tuning and with a frozen backbone plus stage-4
adapters, on ProcCity source scenes and rainy target scenes rendered in memory
at the demo resolution (random weights: the cost does not depend on them).
The two models are profiled in alternating rounds so machine load hits both alike.
``tools/profile_step.py CONFIG_A CONFIG_B`` does the same from online configs.

    OMP_NUM_THREADS=1 python bench/profile_step_phases.py [--shape 128 256]
        [--steps 3] [--rounds 2] [--warmup 1]
"""
import argparse
import os.path as osp
import sys

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_ext  # noqa: E402,F401
from mmcv import Config  # noqa: E402
from mmcv.runner import build_optimizer  # noqa: E402

from online_src.apis.profile import format_profiles, profile_steps  # noqa: E402
from mmseg_ext.datasets.synth import render_rain, render_scene  # noqa: E402
from mmseg_ext.models import build_train_model  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = (('full fine-tune', 'segformer_mit-b1.py'),
          ('frozen + stage-4 adapters', 'segformer_mit-b1_frozen-late-adapter.py'))
MEAN = np.array([123.675, 116.28, 103.53], np.float32)
STD = np.array([58.395, 57.12, 57.375], np.float32)


def batches(h, w):
    i = 0
    while True:
        src, label, _ = render_scene(2 * i, h, w)
        tgt, _, depth = render_scene(2 * i + 1, h, w)
        tgt = render_rain(tgt, depth, 100, np.random.default_rng(i))
        meta = dict(ori_shape=(h, w, 3), img_shape=(h, w, 3), pad_shape=(h, w, 3),
                    scale_factor=1.0, flip=False,
                    img_norm_cfg=dict(mean=MEAN, std=STD, to_rgb=True))

        def norm(rgb):
            return torch.from_numpy(((rgb - MEAN) / STD).transpose(2, 0, 1).copy())[None]

        yield dict(img=norm(src), img_metas=[meta],
                   gt_semantic_seg=torch.from_numpy(label.astype(np.int64))[None, None],
                   target_img=norm(tgt), target_img_metas=[meta])
        i += 1


def build(model_file):
    cfg = Config(dict(
        model=Config.fromfile(osp.join(ROOT, 'configs/_base_/models', model_file)).model,
        uda=Config.fromfile(osp.join(ROOT, 'configs/_base_/uda/dacs.py')).uda))
    torch.manual_seed(0)
    method = build_train_model(cfg)
    method.init_weights()
    opt_cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/schedules/adamw.py')).optimizer
    return method, build_optimizer(method, opt_cfg)


def merge(profiles):
    """Sum of several rounds' profiles of one model."""
    out = dict(profiles[0], steps=sum(p['steps'] for p in profiles))
    out['step_ms'] = sum(p['step_ms'] * p['steps'] for p in profiles) / out['steps']
    rows = {}
    for p in profiles:
        for r in p['phases']:
            acc = rows.setdefault(r['phase'], dict(r, ms=0.0, hits=0))
            acc['ms'] += r['ms_per_hit'] * r['hits']
            acc['hits'] += r['hits']
    total = sum(r['ms'] for r in rows.values())
    out['phases'] = [dict(phase=k, ms_per_hit=r['ms'] / max(r['hits'], 1), hits=r['hits'],
                          ms_per_step=r['ms'] / out['steps'], share=r['ms'] / total)
                     for k, r in rows.items()]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--shape', type=int, nargs=2, default=(128, 256))
    parser.add_argument('--steps', type=int, default=3, help='profiled steps per round')
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=1)
    args = parser.parse_args()
    runs = [(name, *build(f), batches(*args.shape)) for name, f in MODELS]
    results = {name: [] for name, _ in MODELS}
    for r in range(args.rounds):
        for name, method, optimizer, data in runs:
            results[name].append(profile_steps(
                method, optimizer, data, args.steps, args.warmup if r == 0 else 0,
                name=name))
    print(f'DACS step, MiT-B1, {args.shape[0]}x{args.shape[1]}, batch 1, '
          f'{args.rounds} rounds x {args.steps} steps, torch threads '
          f'{torch.get_num_threads()}')
    print(format_profiles([merge(results[name]) for name, _ in MODELS]))


if __name__ == '__main__':
    main()
