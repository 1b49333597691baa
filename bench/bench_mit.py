"""Speed of the project's MixTransformer vs mmseg 0.30's MixVisionTransformer.

Same sizes (B0, B1), same weights (converted), same input; forward (eval, no
grad) and forward+backward (train mode, drop-path off so both do the same work),
timed interleaved side by side in one run (ours, mmseg, ours, mmseg, ...) so
machine load hits both alike. Prints median times and the ratio ours/mmseg
(target: at most 1.1).

    OMP_NUM_THREADS=1 python bench/bench_mit.py [--sizes b0 b1] [--shape 1 3 256 512]
        [--reps 10] [--warmup 2] [--threads 1]
"""
import argparse
import os.path as osp
import statistics
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_ext  # noqa: E402,F401
from mmseg.models import build_backbone  # noqa: E402

from mmseg_ext.models.utils import convert_state_dict, load_converted  # noqa: E402

SIZES = dict(b0=32, b1=64)
HEADS = [1, 2, 5, 8]


def build_pair(size):
    base = SIZES[size]
    ref = build_backbone(dict(type='MixVisionTransformer', embed_dims=base,
                              num_heads=HEADS, num_layers=[2, 2, 2, 2]))
    ref.init_weights()
    ours = build_backbone(dict(type='MixTransformer', embed_dims=[base * h for h in HEADS],
                               num_heads=HEADS, depths=[2, 2, 2, 2], drop_path_rate=0.,
                               patch_norm_cfg=dict(type='LN', eps=1e-6)))
    load_converted(ours, convert_state_dict(ref.state_dict(), parts=('encoder',))[0],
                   prefix='backbone.', strict=True)
    return ours, ref


def run_forward(model, x):
    model.eval()
    with torch.no_grad():
        model(x)


def run_backward(model, x):
    model.train()
    model.zero_grad(set_to_none=True)
    sum(o.float().mean() for o in model(x)).backward()


def timed(fn, model, x):
    start = time.perf_counter()
    fn(model, x)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description='MixTransformer vs MixVisionTransformer')
    parser.add_argument('--sizes', nargs='+', default=['b0', 'b1'], choices=list(SIZES))
    parser.add_argument('--shape', nargs=4, type=int, default=[1, 3, 256, 512])
    parser.add_argument('--reps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(*args.shape)
    print(f'input {tuple(x.shape)}, {args.reps} reps (median), {args.threads} thread(s), '
          f'torch {torch.__version__}')
    print(f'{"size":5} {"pass":12} {"ours ms":>9} {"mmseg ms":>9} {"ratio":>6}')
    ratios = {}
    for size in args.sizes:
        ours, ref = build_pair(size)
        for name, fn in (('forward', run_forward), ('fwd+bwd', run_backward)):
            for _ in range(args.warmup):
                fn(ours, x)
                fn(ref, x)
            t_ours, t_ref = [], []
            for rep in range(args.reps):  # alternate which goes first
                pair = [(ours, t_ours), (ref, t_ref)]
                for model, times in (pair if rep % 2 == 0 else pair[::-1]):
                    times.append(timed(fn, model, x))
            a, b = statistics.median(t_ours), statistics.median(t_ref)
            ratios[(size, name)] = a / b
            print(f'{size:5} {name:12} {a * 1e3:9.1f} {b * 1e3:9.1f} {a / b:6.2f}')
    return ratios


if __name__ == '__main__':
    main()
