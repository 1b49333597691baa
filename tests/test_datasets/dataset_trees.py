"""Tiny dataset trees in the published layouts (helpers of the dataset tests)."""
import os
import os.path as osp

import cv2
import numpy as np

H, W = 16, 32


def write_png(path, array):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, array)


def label_map(seed, num_classes=19):
    """Random trainIds with an ignored first row."""
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, num_classes, (H, W)).astype(np.uint8)
    lab[0, :] = 255
    return lab


def image(seed):
    return np.random.default_rng(seed + 1000).integers(0, 256, (H, W, 3)).astype(np.uint8)


def cityscapes_name(city, i):
    return f'{city}_{i:06d}_000019'


def make_cityscapes_tree(root):
    """Cityscapes + rainy (25, 200 mm/h) + foggy (beta 0.02) trees sharing labels:
    train: 2 cities x 2 images, val: 1 city x 2 images."""
    k = 0
    for split, cities in (('train', ('aachen', 'bonn')), ('val', ('lindau',))):
        for city in cities:
            for i in range(2):
                name = cityscapes_name(city, i)
                write_png(f'{root}/leftImg8bit/{split}/{city}/{name}_leftImg8bit.png', image(k))
                write_png(f'{root}/gtFine/{split}/{city}/{name}_gtFine_labelTrainIds.png',
                          label_map(k))
                for rate in (25, 200):
                    write_png(f'{root}/leftImg8bit/{split}/rain/{rate}mm/rainy_image/{city}/'
                              f'{name}_leftImg8bit.png', image(k) // 2)
                write_png(f'{root}/leftImg8bit_foggy/{split}/{city}/'
                          f'{name}_leftImg8bit_foggy_beta_0.02.png', image(k) // 3)
                k += 1
    return root


def make_acdc_tree(root):
    """ACDC: night and snow, train/val, one sequence each with 2 frames."""
    k = 0
    for cond in ('night', 'snow'):
        for split in ('train', 'val'):
            for i in range(2):
                name = f'GOPR0{k:03d}_frame_{i:06d}'
                write_png(f'{root}/rgb_anon/{cond}/{split}/GOPR0{k:03d}/{name}_rgb_anon.png',
                          image(k))
                write_png(f'{root}/gt/{cond}/{split}/GOPR0{k:03d}/{name}_gt_labelTrainIds.png',
                          label_map(k))
            k += 1
    return root


TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg'],
         meta_keys=('filename', 'ori_shape', 'img_shape')),
]
TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiScaleFlipAug', img_scale=(W, H), flip=False, transforms=[
        dict(type='Resize', keep_ratio=True),
        dict(type='ImageToTensor', keys=['img']),
        dict(type='Collect', keys=['img'])]),
]
