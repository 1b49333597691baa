"""Dataset preparation (mmseg_ext.datasets.prepare, tools/data/*.py) on tiny trees in
the published layouts, and the per-family root keys of the configs."""
import importlib.util
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from cityscapesscripts.preparation.json2labelImg import json2labelImg
from fixtures.real_layouts import build_acdc, build_all, build_cityscapes
from mmseg.datasets import build_dataset
from PIL import Image

from mmseg_ext.apis.config import load_config
from mmseg_ext.datasets.prepare import (label_id_to_train_id, prepare_acdc,
                                        prepare_cityscapes, prepare_rain_cityscapes)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG_DIR = osp.join(REPO, 'configs', '_base_', 'datasets')
NAME = 'aachen/aachen_000001_000019'


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', 'data',
                                                                 f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png(path):
    with Image.open(path) as im:
        return np.asarray(im)


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    roots = build_all(str(tmp_path_factory.mktemp('real')))
    prepare_cityscapes(roots['cityscapes'], expected=None)
    return roots


def test_cityscapes_train_ids_are_cityscapesscripts(tmp_path):
    root = build_cityscapes(str(tmp_path / 'cs'))
    gt = osp.join(root, 'gtFine', 'train')
    os.remove(osp.join(gt, 'bonn/bonn_000000_000019_gtFine_polygons.json'))  # label ids only
    report = prepare_cityscapes(root, expected=None)
    assert report.complete and report.written == 6 + 2  # 6 train ids + 2 RCS files
    assert report.counts == {'cityscapes train images': 4, 'cityscapes train labels': 4,
                             'cityscapes val images': 2, 'cityscapes val labels': 2}
    # equal to cityscapesscripts' createTrainIdLabelImgs (json2labelImg 'trainIds')
    json2labelImg(osp.join(gt, f'{NAME}_gtFine_polygons.json'), str(tmp_path / 'ref.png'),
                  'trainIds')
    ours = _png(osp.join(gt, f'{NAME}_gtFine_labelTrainIds.png'))
    np.testing.assert_array_equal(ours, _png(tmp_path / 'ref.png'))
    assert set(np.unique(ours)) <= set(range(19)) | {255} and (ours[-1] == 255).all()
    # and, from label ids, through the same label table
    bonn = osp.join(gt, 'bonn/bonn_000000_000019')
    np.testing.assert_array_equal(_png(f'{bonn}_gtFine_labelTrainIds.png'),
                                  label_id_to_train_id()[_png(f'{bonn}_gtFine_labelIds.png')])
    with open(osp.join(root, 'sample_class_stats.json')) as f:
        assert len(json.load(f)) == 4  # RCS statistics of the 4 train labels


def test_cityscapes_tool_reports_missing(tmp_path, capsys):
    root = build_cityscapes(str(tmp_path / 'cs'))
    tool = _tool('cityscapes')
    assert tool.main([root, '--workers', '1']) == 1  # 4 of 2975 images
    out = capsys.readouterr().out
    assert 'MISSING cityscapes train images: 4 of the published 2975 (2971 missing)' in out
    assert 'MISSING cityscapes val images: 2 of the published 500 (498 missing)' in out
    assert tool.main([root, '--expect-counts', 'none', '--workers', '1']) == 0
    assert f'complete; use --cfg-options cityscapes_root={root}' in capsys.readouterr().out


def test_unprepared_cityscapes_error_names_the_prep_command(tmp_path):
    root = build_cityscapes(str(tmp_path / 'cs'))
    with pytest.raises(FileNotFoundError, match=r'has no label: .*labelTrainIds.png does not '
                       r'exist .*python tools/data/cityscapes.py'):
        build_dataset(dict(type='CityscapesDomainDataset', data_root=root,
                           img_dir='leftImg8bit/train', ann_dir='gtFine/train', pipeline=[]))


def test_rain_tree_nested_and_incomplete(trees, tmp_path):
    nested = tmp_path / 'download'
    shutil.copytree(trees['rain_cityscapes'], nested / 'weather_datasets' / 'weather_cityscapes')
    rain200 = nested / 'weather_datasets/weather_cityscapes/leftImg8bit/val/rain/200mm'
    shutil.rmtree(rain200)
    report = prepare_rain_cityscapes(str(nested), trees['cityscapes'], expected=None)
    assert report.root == str(nested / 'weather_datasets' / 'weather_cityscapes')
    assert report.counts['rain 25mm train images'] == 4
    assert report.counts['rain 25mm train labels'] == 4
    assert report.missing == [f'rain 200mm val: directory {rain200}/rainy_image does not exist']


def test_acdc_counts_and_label_ids_only(tmp_path, capsys):
    root = build_acdc(str(tmp_path / 'acdc'), conditions=('night',))
    gt = osp.join(root, 'gt', 'night', 'val')
    seq = sorted(os.listdir(gt))[0]
    stem = osp.join(gt, seq, f'{seq}_frame_000000_gt_labelTrainIds.png')
    os.remove(stem)  # only the label ids of this frame remain
    report = prepare_acdc(root, conditions=('night',))
    assert osp.isfile(stem) and report.written == 1
    assert report.counts['acdc night val labels'] == 2
    assert 'acdc night val images: 2 of the published 106 (104 missing)' in report.missing
    os.remove(stem)
    os.remove(stem.replace('labelTrainIds', 'labelIds'))
    assert _tool('acdc').main([root, '--conditions', 'night', '--expect-counts', 'none']) == 1
    assert f'MISSING 1 acdc night val images without a label: {stem}' in capsys.readouterr().out


def test_root_keys_move_one_family_each(trees):
    acdc_file = osp.join(CFG_DIR, 'cityscapes_acdc.py')
    cfg = load_config(acdc_file, dict(data_root='/x/cs'))
    assert cfg.data.train[0].dataset.data_root == '/x/cs' and cfg.cityscapes_root == '/x/cs'
    assert {c.data_root for c in cfg.data.train[1:] + cfg.data.val} == {'data/acdc'}
    cfg = load_config(acdc_file, dict(cityscapes_root=trees['cityscapes'],
                                      acdc_root=trees['acdc']))
    assert [len(build_dataset(c)) for c in cfg.data.train] == [4, 2, 2, 2, 2]
    with pytest.raises(KeyError, match=r'no foggy_root; its root keys are'):
        load_config(acdc_file, dict(foggy_root='/y'))

    cfg = load_config(osp.join(CFG_DIR, 'cityscapes_rain_storm.py'),
                      dict(cityscapes_root=trees['cityscapes'],
                           rain_cityscapes_root=trees['rain_cityscapes']))
    rain = build_dataset(dict(cfg.data.val[-1], pipeline=[dict(type='LoadAnnotations')]))
    assert (rain.name, len(rain)) == ('200mm', 2)
    label = osp.join(trees['cityscapes'], 'gtFine', 'val',
                     rain.img_infos[0]['ann']['seg_map'])
    np.testing.assert_array_equal(rain[0]['gt_semantic_seg'], _png(label))
    assert rain.img_dir.startswith(trees['rain_cityscapes'])


@pytest.mark.parametrize('cfg_file,stream', [('cityscapes_rain_storm.py', 2),
                                             ('cityscapes_acdc.py', 1)])
def test_stream_frames_cropped_to_the_source_crop(trees, cfg_file, stream):
    """HAMLET's / DAFormer's target pipeline: frames (64x128, ACDC 60x108) resized like
    the source, then cropped to its crop size, so DACS can mix them."""
    cfg = load_config(osp.join(CFG_DIR, cfg_file),
                      dict(cityscapes_root=trees['cityscapes'], acdc_root=trees['acdc'],
                           rain_cityscapes_root=trees['rain_cityscapes']))
    for step in cfg.data.train[0].dataset.pipeline + cfg.data.train[stream].pipeline:
        for key, small in (('img_scale', (128, 64)), ('crop_size', (32, 64)),
                           ('size', (32, 64))):
            if key in step:
                step[key] = small
    cfg.data.train[0].rare_class_sampling.min_pixels = 4
    source, target = build_dataset(cfg.data.train[0]), build_dataset(cfg.data.train[stream])
    frame = target[0]
    assert tuple(source[0]['img'].data.shape) == tuple(frame['img'].data.shape) == (3, 32, 64)
    assert tuple(frame['gt_semantic_seg'].data.shape) == (1, 32, 64)
    assert frame['img_metas'].data['flip'] is False
