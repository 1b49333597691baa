"""Do the adaptation methods adapt? A tiny synthetic domain shift, CPU, minutes.

Source domain: blocky scenes whose classes have fixed colours (plus noise).
Target domain: the same scenes seen through "fog" (contrast scaled by
``--contrast``, an added grey veil, stronger noise). A tiny MiT + SegFormer head
is trained on the source, then each method adapts online on a stream of target
frames (one step per frame, paired with a source frame); the script prints the
mIoU on held-out target frames before and after, per method, all from the same
source weights.

    OMP_NUM_THREADS=1 python bench/uda_sanity.py [--source-iters 300]
        [--stream 60] [--contrast 0.35] [--veil 0.8] [--target-noise 0.3]
        [--methods source_only tent dacs dacs_tent cotta]
"""
import argparse
import copy
import os.path as osp
import sys

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_ext  # noqa: E402,F401
from mmcv import Config  # noqa: E402
from mmseg.core import intersect_and_union  # noqa: E402

from mmseg_ext.models import build_train_model  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
NUM_CLASSES = 8
NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def tiny_model():
    return dict(
        type='CustomEncoderDecoder',
        backbone=dict(type='MixTransformer', embed_dims=[16, 32, 48, 64],
                      num_heads=[1, 2, 3, 4], depths=[1, 1, 1, 1], drop_path_rate=0.),
        decode_head=dict(type='SegformerHead', in_channels=[16, 32, 48, 64],
                         in_index=[0, 1, 2, 3], channels=32, num_classes=NUM_CLASSES,
                         dropout_ratio=0.0, align_corners=False,
                         norm_cfg=dict(type='BN', requires_grad=True),
                         loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


class Domain:
    """Frames of one domain: (img, metas, gt) with a fixed seed per frame."""

    def __init__(self, colours, contrast=1.0, veil=0.0, noise=0.15, h=64, w=128):
        self.colours, self.contrast, self.veil = colours, contrast, veil
        self.noise, self.h, self.w = noise, h, w

    def frame(self, seed):
        g = torch.Generator().manual_seed(seed)
        h, w = self.h, self.w
        coarse = torch.randint(0, NUM_CLASSES, (1, 1, h // 8, w // 8), generator=g)
        gt = coarse.repeat_interleave(8, 2).repeat_interleave(8, 3)
        img = self.colours[gt[:, 0]].permute(0, 3, 1, 2)
        img = img + self.noise * torch.randn(1, 3, h, w, generator=g)
        img = self.contrast * img + self.veil
        metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                      flip=False, scale_factor=1.0, img_norm_cfg=NORM)]
        return img, metas, gt


def miou(model, domain, seeds):
    inter = union = 0
    for s in seeds:
        img, metas, gt = domain.frame(s)
        pred = model.online_inference(img, metas)['pred'][0].numpy()
        i, u, _, _ = intersect_and_union(pred, gt[0, 0].numpy(), NUM_CLASSES, 255)
        inter, union = inter + i.numpy(), union + u.numpy()
    return float(np.nanmean(inter / np.maximum(union, 1)) * 100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--source-iters', type=int, default=300)
    parser.add_argument('--stream', type=int, default=60)
    parser.add_argument('--contrast', type=float, default=0.35)
    parser.add_argument('--veil', type=float, default=0.8)
    parser.add_argument('--target-noise', type=float, default=0.3)
    parser.add_argument('--lr', type=float, default=6e-4)
    parser.add_argument('--methods', nargs='+',
                        default=['source_only', 'tent', 'dacs', 'dacs_tent', 'cotta'])
    args = parser.parse_args()
    torch.manual_seed(0)
    colours = torch.randn(NUM_CLASSES, 3)
    source = Domain(colours)
    target = Domain(colours, contrast=args.contrast, veil=args.veil,
                    noise=args.target_noise)
    held_out = range(10000, 10020)

    # source training (plain supervised steps through the SourceOnly decorator)
    base = build_train_model(Config(dict(model=tiny_model(),
                                         uda=dict(type='SourceOnly'))))
    opt = torch.optim.AdamW(base.model.parameters(), lr=1e-3)
    base.model.train()
    for it in range(args.source_iters):
        img, metas, gt = source.frame(it)
        opt.zero_grad()
        loss, _ = base._parse_losses(base.model.forward_train(img, metas, gt))
        loss.backward()
        opt.step()
    source_state = copy.deepcopy(base.model.state_dict())
    print(f'source model: source mIoU {miou(base, source, held_out):.1f}, '
          f'target mIoU {miou(base, target, held_out):.1f}')

    print(f'| method | target mIoU before | after {args.stream} frames | source mIoU after |')
    print('|---|---:|---:|---:|')
    for name in args.methods:
        uda = Config.fromfile(osp.join(ROOT, f'configs/_base_/uda/{name}.py')).uda
        if name == 'cotta':
            uda.update(aug_scales=[0.75, 1.0, 1.5])  # 6 teacher passes, CPU budget
        torch.manual_seed(0)
        model = build_train_model(Config(dict(model=tiny_model(), uda=uda)))
        model.model.load_state_dict(source_state)
        before = miou(model, target, held_out)
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                lr=args.lr)
        for f in range(args.stream):
            s_img, s_metas, s_gt = source.frame(20000 + f)
            t_img, t_metas, _ = target.frame(30000 + f)
            model.online_inference(t_img, t_metas)
            model.train_step(dict(img=s_img, img_metas=s_metas, gt_semantic_seg=s_gt,
                                  target_img=t_img, target_img_metas=t_metas), opt)
        print(f'| {name} | {before:.1f} | {miou(model, target, held_out):.1f} | '
              f'{miou(model, source, held_out):.1f} |')


if __name__ == '__main__':
    main()
