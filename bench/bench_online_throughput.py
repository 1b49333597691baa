"""Frames/s of inference and of one adaptation step per method, side by side.

    OMP_NUM_THREADS=2 python bench/bench_online_throughput.py [--size 128 256] [--steps 5]

MiT-B0 SegFormer (random weights: speed does not depend on them) on one 128x256
frame: the deployed prediction (`online_inference`), a TENT step, a DACS step and a
DACS step trained from module 3 (HAMLET's modular training). Prints ms and the
ratio to inference; on a shared CPU compare the ratios, not the absolute numbers.
"""
import argparse
import os.path as osp
import sys
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_ext  # noqa: E402,F401
from mmcv import Config  # noqa: E402
from mmseg_ext.models import build_train_model  # noqa: E402

MODEL = 'configs/_base_/models/segformer_mit-b0.py'


def _batch(h, w):
    meta = dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                flip=False, scale_factor=1.0,
                img_norm_cfg=dict(mean=np.array([123.675, 116.28, 103.53], np.float32),
                                  std=np.array([58.395, 57.12, 57.375], np.float32),
                                  to_rgb=True))
    return dict(img=torch.randn(1, 3, h, w), img_metas=[meta],
                gt_semantic_seg=torch.randint(0, 19, (1, 1, h, w)),
                target_img=torch.randn(1, 3, h, w), target_img_metas=[meta])


def _time(fn, steps):
    fn()
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, nargs=2, default=[128, 256])
    parser.add_argument('--steps', type=int, default=5)
    args = parser.parse_args(argv)
    h, w = args.size
    batch = _batch(h, w)
    model_cfg = Config.fromfile(osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                                         MODEL)).model
    rows = []
    cases = [('inference', dict(type='SourceOnly'), None, None),
             ('TENT step', dict(type='TENT'), None, {}),
             ('DACS step', dict(type='DACS'), None, {}),
             ('DACS step from module 3', dict(type='DACS'), 'ModularEncoderDecoder',
              dict(train_from_module=3))]
    for label, uda, seg_type, kwargs in cases:
        mcfg = dict(model_cfg, type=seg_type) if seg_type else model_cfg
        model = build_train_model(Config(dict(model=mcfg, uda=uda)))
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], 6e-5)
        if kwargs is None:
            sec = _time(lambda: model.online_inference(batch['target_img'],
                                                       batch['target_img_metas']),
                        args.steps)
        else:
            sec = _time(lambda: model.train_step(batch, opt, **kwargs), args.steps)
        rows.append((label, sec))
    base = rows[0][1]
    print(f'threads={torch.get_num_threads()} size={h}x{w}')
    for label, sec in rows:
        print(f'{label:28s} {sec * 1000:8.0f} ms  {sec / base:5.2f} x inference')


if __name__ == '__main__':
    main()
