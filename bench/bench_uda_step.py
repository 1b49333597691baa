"""Cost of one online adaptation step per method, side by side.

Builds each `configs/_base_/uda/` method around SegFormer MiT-B0 (random init;
the cost does not depend on the weights) and times ``train_step`` on one
source/target pair at the demo resolution, plus ``online_inference`` (the
deployed prediction), interleaving the methods round after round so machine load
hits them alike. Prints the best time over the rounds, the ratio to DACS and
the cost of a whole frame (``online_inference`` + ``train_step``) relative to
source-only inference.

``--compare-before`` adds ``cotta_before``: CoTTA as it ran before issue 14
(student in train mode, teacher copying its BatchNorm statistics, the scale-1
teacher view computed twice, flipped views as separate batch-1 forwards, the
stochastic restore as a Python loop over parameters), to time the old and new
CoTTA side by side in one run.

    OMP_NUM_THREADS=1 python bench/bench_uda_step.py [--shape 128 256] [--rounds 5]
        [--warmup 1] [--methods source_only tent dacs ...] [--compare-before]
"""
import argparse
import os.path as osp
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_ext  # noqa: E402,F401
from mmcv import Config  # noqa: E402

from mmseg.ops import resize  # noqa: E402

from mmseg_ext.models import build_train_model  # noqa: E402
from mmseg_ext.models.uda.cotta import CoTTA, scaled_size  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
METHODS = ['source_only', 'adabn', 'tent', 'dacs', 'dacs_adabn', 'dacs_a999_fdthings',
           'dacs_tent', 'cotta', 'cotta_1scale']
NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


class CoTTABefore(CoTTA):
    """CoTTA's cost structure before issue 14 (same outputs up to rounding)."""

    @torch.no_grad()
    def teacher_views(self, img, img_metas):
        size = img.shape[-2:]
        total, count = 0.0, 0
        for scale in self.aug_scales:
            x = img if scale == 1.0 else resize(img, size=scaled_size(size, scale),
                                                mode='bilinear', align_corners=False)
            for flip in ((False, True) if self.aug_flip else (False, )):
                logits = self.ema_model.encode_decode(x.flip(-1) if flip else x,
                                                      img_metas)
                probs = torch.softmax(resize(logits, size=size, mode='bilinear',
                                             align_corners=self.align_corners), dim=1)
                total = total + (probs.flip(-1) if flip else probs)
                count += 1
        plain = torch.softmax(self.ema_model.encode_decode(img, img_metas), dim=1)
        return total / count, plain

    @torch.no_grad()
    def restore(self):
        anchor = dict(self.anchor_model.named_parameters())
        for name, param in self.model.named_parameters():
            if param.requires_grad:
                keep = torch.rand(param.shape, device=param.device) \
                    >= self.restore_probability
                param.copy_(torch.where(keep, param, anchor[name]))


def method_cfg(name):
    if name == 'cotta_before':
        uda = Config.fromfile(osp.join(ROOT, 'configs/_base_/uda/cotta.py')).uda
        uda.update(type=CoTTABefore,
                   norm_stats=dict(student='batch', teacher='student_running'))
        return uda
    if name == 'cotta_1scale':  # CoTTA with the teacher at scale 1, no flip
        uda = Config.fromfile(osp.join(ROOT, 'configs/_base_/uda/cotta.py')).uda
        uda.update(aug_scales=[1.0], aug_flip=False)
        return uda
    return Config.fromfile(osp.join(ROOT, f'configs/_base_/uda/{name}.py')).uda


def make_batch(h, w, seed):
    g = torch.Generator().manual_seed(seed)
    batch = {}
    for prefix in ('', 'target_'):
        coarse = torch.randint(0, 19, (1, 1, h // 16, w // 16), generator=g)
        gt = coarse.repeat_interleave(16, 2).repeat_interleave(16, 3)
        metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                      flip=False, scale_factor=1.0, img_norm_cfg=NORM)]
        batch[f'{prefix}img'] = torch.randn(1, 3, h, w, generator=g)
        batch[f'{prefix}img_metas'] = metas
        batch[f'{prefix}gt_semantic_seg'] = gt
    return batch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shape', type=int, nargs=2, default=[128, 256])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--methods', nargs='+', default=METHODS,
                        choices=METHODS + ['cotta_before'])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--compare-before', action='store_true',
                        help='add cotta_before (CoTTA before issue 14)')
    args = parser.parse_args()
    if args.compare_before and 'cotta_before' not in args.methods:
        args.methods = args.methods + ['cotta_before']
    torch.set_num_threads(args.threads)
    model_cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/models/segformer_mit-b0.py'))
    models, optims = {}, {}
    for name in args.methods:
        torch.manual_seed(0)
        models[name] = build_train_model(Config(dict(model=model_cfg.model,
                                                     uda=method_cfg(name))))
        params = [p for p in models[name].parameters() if p.requires_grad]
        optims[name] = torch.optim.AdamW(params, lr=6e-5)
    h, w = args.shape
    step = {n: [] for n in models}
    infer = {n: [] for n in models}
    restore = {n: [] for n, m in models.items() if isinstance(m, CoTTA)}
    for r in range(args.warmup + args.rounds):
        batch = make_batch(h, w, r)
        for name, model in models.items():
            t0 = time.perf_counter()
            model.online_inference(batch['target_img'], batch['target_img_metas'])
            t1 = time.perf_counter()
            model.train_step(batch, optims[name])
            t2 = time.perf_counter()
            if name in restore:  # CoTTA's stochastic restore alone, once more
                model.restore()
            t3 = time.perf_counter()
            if r >= args.warmup:
                infer[name].append(t1 - t0)
                step[name].append(t2 - t1)
                if name in restore:
                    restore[name].append(t3 - t2)
    ref = min(step['dacs']) if 'dacs' in step else None
    plain = min(infer['source_only']) if 'source_only' in infer else None
    print(f'MiT-B0, input {h}x{w}, batch 1, {args.threads} thread(s), best of '
          f'{args.rounds} rounds')
    print('| method | train_step ms | vs DACS | online_inference ms | frame / inference |')
    print('|---|---:|---:|---:|---:|')
    for name in models:
        best, best_infer = min(step[name]), min(infer[name])
        rel = f'{best / ref:.2f}' if ref else '-'
        frame = f'{(best + best_infer) / plain:.1f}' if plain else '-'
        print(f'| {name} | {best * 1e3:.0f} | {rel} | {best_infer * 1e3:.0f} | {frame} |')
    for name, times in restore.items():
        print(f'{name}: stochastic restore alone {min(times) * 1e3:.1f} ms')


if __name__ == '__main__':
    main()
