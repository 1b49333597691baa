"""How big is the rain shift of ProcCity? Source-only mIoU per rain rate.

Trains SegFormer (mmseg's MixVisionTransformer MiT-B0 + SegformerHead) from
scratch on clear ProcCity with mmseg's ``train_segmentor``, then evaluates the
same weights on the clear val split and on its rain (and optionally fog)
renderings, and prints one mIoU row per domain. Generates the data first when
``--data-root`` is empty.

Measured (bench/README.md has the table)::

    OMP_NUM_THREADS=1 python bench/proccity_shift.py --data-root work_dirs/issue3/pc2 \\
        --work-dir work_dirs/issue3/w3 --iters 1500 --lr 6e-4 --warmup 50
    # evaluate a trained checkpoint again (e.g. on fog):
    python bench/proccity_shift.py --data-root ... --checkpoint .../latest.pth \\
        --rates --fog 750 375 150 75
"""
import argparse
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

RATES = (25, 50, 75, 100, 200)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data-root', default='data/proccity')
    p.add_argument('--work-dir', default='work_dirs/bench_proccity_shift')
    p.add_argument('--train', type=int, default=400, help='train images to generate')
    p.add_argument('--val', type=int, default=40, help='val images to generate')
    p.add_argument('--size', type=int, nargs=2, default=[128, 256])
    p.add_argument('--iters', type=int, default=1500)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--lr', type=float, default=6e-4, help='AdamW lr of the encoder')
    p.add_argument('--head-lr-mult', type=float, default=10.0, help='decode head lr factor')
    p.add_argument('--warmup', type=int, default=50)
    p.add_argument('--rates', type=float, nargs='*', default=list(RATES))
    p.add_argument('--fog', type=float, nargs='*', default=[])
    p.add_argument('--checkpoint', default=None, help='evaluate this checkpoint, no training')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--log-interval', type=int, default=50)
    return p.parse_args()


def ensure_data(args):
    from mmseg_ext.datasets.synth import rain_dir, write_proccity, write_weather
    if not osp.isdir(osp.join(args.data_root, 'leftImg8bit', 'train')):
        write_proccity(args.data_root, {'train': args.train, 'val': args.val},
                       size=tuple(args.size), seed=args.seed)
    missing = [r for r in args.rates
               if not osp.isdir(osp.join(args.data_root, rain_dir('val', r)))]
    if missing or args.fog:
        write_weather(args.data_root, rain=missing, fog=args.fog, splits=('val',),
                      seed=args.seed)


def build_cfg(args):
    from mmcv import Config
    h, w = args.size
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='Resize', img_scale=(w, h), ratio_range=(1.0, 1.5)),
        dict(type='RandomCrop', crop_size=(h, w), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='Normalize', **norm),
        dict(type='Pad', size=(h, w), pad_val=0, seg_pad_val=255),
        dict(type='DefaultFormatBundle'),
        dict(type='Collect', keys=['img', 'gt_semantic_seg']),
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='MultiScaleFlipAug', img_scale=(w, h), flip=False, transforms=[
            dict(type='Resize', keep_ratio=True),
            dict(type='Normalize', **norm),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img'])]),
    ]
    train = dict(type='ProcCityDataset', data_root=args.data_root, subset='train',
                 pipeline=train_pipeline)
    cfg = dict(
        model=dict(
            type='EncoderDecoder', pretrained=None,
            backbone=dict(type='MixVisionTransformer', in_channels=3, embed_dims=32,
                          num_stages=4, num_layers=[2, 2, 2, 2], num_heads=[1, 2, 5, 8],
                          patch_sizes=[7, 3, 3, 3], sr_ratios=[8, 4, 2, 1],
                          out_indices=(0, 1, 2, 3), mlp_ratio=4, qkv_bias=True,
                          drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.1),
            decode_head=dict(type='SegformerHead', in_channels=[32, 64, 160, 256],
                             in_index=[0, 1, 2, 3], channels=256, dropout_ratio=0.1,
                             num_classes=19, norm_cfg=dict(type='BN', requires_grad=True),
                             align_corners=False,
                             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                              loss_weight=1.0)),
            train_cfg=dict(), test_cfg=dict(mode='whole')),
        data=dict(samples_per_gpu=args.batch, workers_per_gpu=0, train=train),
        test_pipeline=test_pipeline,
        optimizer=dict(type='AdamW', lr=args.lr, betas=(0.9, 0.999), weight_decay=0.01,
                       paramwise_cfg=dict(custom_keys=dict(
                           head=dict(lr_mult=args.head_lr_mult), pos_block=dict(decay_mult=0.0),
                           norm=dict(decay_mult=0.0)))),
        optimizer_config=dict(),
        lr_config=dict(policy='poly', warmup='linear', warmup_iters=args.warmup,
                       warmup_ratio=1e-6, power=1.0, min_lr=0.0, by_epoch=False),
        runner=dict(type='IterBasedRunner', max_iters=args.iters),
        checkpoint_config=dict(by_epoch=False, interval=args.iters),
        evaluation=dict(interval=args.iters + 1),
        log_config=dict(interval=args.log_interval,
                        hooks=[dict(type='TextLoggerHook', by_epoch=False)]),
        dist_params=dict(backend='gloo'), log_level='INFO', load_from=None,
        resume_from=None, workflow=[('train', 1)], cudnn_benchmark=False,
        seed=args.seed, gpu_ids=[0], device='cpu', work_dir=args.work_dir)
    return Config(cfg)


def evaluate(model, cfg, args):
    from mmcv.parallel import MMDataParallel
    from mmseg.apis import single_gpu_test
    from mmseg.datasets import build_dataloader, build_dataset
    domains = [('clear', dict(type='ProcCityDataset', weather='clear'))]
    domains += [(f'{r:g}mm', dict(type='ProcCityDataset', weather='rain', rain_rate=r))
                for r in args.rates]
    domains += [(f'fog{v:g}m', dict(type='ProcCityDataset', weather='fog', visibility=v))
                for v in args.fog]
    model = MMDataParallel(model.eval(), device_ids=None)
    rows = []
    for name, ds in domains:
        ds.update(data_root=args.data_root, subset='val', pipeline=cfg.test_pipeline,
                  test_mode=True)
        dataset = build_dataset(ds)
        loader = build_dataloader(dataset, samples_per_gpu=1, workers_per_gpu=0,
                                  dist=False, shuffle=False)
        results = single_gpu_test(model, loader, pre_eval=True)
        metrics = dataset.evaluate(results, metric='mIoU', logger='silent')
        per_class = [100 * metrics.get(f'IoU.{c}', float('nan')) for c in dataset.CLASSES]
        rows.append((name, 100 * metrics['mIoU'], 100 * metrics['aAcc'], per_class))
    return rows


def main():
    args = parse_args()
    import torch

    import mmseg_ext  # noqa: F401  (compat fixes, dataset classes)
    from mmcv.runner import load_checkpoint
    from mmseg.apis import train_segmentor
    from mmseg.datasets import build_dataset
    from mmseg.models import build_segmentor
    ensure_data(args)
    cfg = build_cfg(args)
    torch.manual_seed(args.seed)
    model = build_segmentor(cfg.model)
    model.init_weights()
    t0 = time.time()
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    else:
        os.makedirs(args.work_dir, exist_ok=True)
        dataset = build_dataset(cfg.data.train)
        model.CLASSES = dataset.CLASSES
        train_segmentor(model, [dataset], cfg, distributed=False, validate=False,
                        meta=dict(seed=args.seed))
    train_s = time.time() - t0
    rows = evaluate(model, cfg, args)
    clear = rows[0][1]
    print(f'\nsource-only SegFormer MiT-B0 from scratch, {args.iters} iters x batch '
          f'{args.batch}, lr {args.lr:g} (head x{args.head_lr_mult:g}), '
          f'train {train_s / 60:.1f} min')
    print(f'{"domain":>10} {"mIoU":>6} {"aAcc":>6} {"drop":>6}  per-class IoU '
          f'(Cityscapes trainId order)')
    for name, miou, aacc, per_class in rows:
        classes = ' '.join(f'{x:3.0f}' for x in per_class)
        print(f'{name:>10} {miou:6.2f} {aacc:6.2f} {clear - miou:6.2f}  {classes}')


if __name__ == '__main__':
    main()
