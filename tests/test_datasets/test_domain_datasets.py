"""Cityscapes, rainy/foggy Cityscapes and ACDC read from tiny fixture trees."""
import os

import numpy as np
import pytest
from mmseg.datasets import build_dataset

from mmseg_ext.datasets.synth import CLASS_NAMES

from dataset_trees import H, TEST_PIPELINE, TRAIN_PIPELINE, W, image, label_map, write_png


def _build(cfg, root, pipeline=TRAIN_PIPELINE, **kw):
    return build_dataset(dict(cfg, data_root=root, pipeline=pipeline, **kw))


def test_cityscapes_domain_reads_clear_images_not_rain(cityscapes_tree):
    ds = _build(dict(type='CityscapesDomainDataset', img_dir='leftImg8bit/train',
                     ann_dir='gtFine/train', name='clear', domain=0), cityscapes_tree)
    assert len(ds) == 4  # the rain/ copies under leftImg8bit/train are excluded
    assert (ds.name, ds.domain) == ('clear', 0)
    assert tuple(ds.CLASSES) == CLASS_NAMES
    sample = ds[0]
    assert tuple(sample['img'].data.shape) == (3, H, W)
    np.testing.assert_array_equal(sample['gt_semantic_seg'].data.numpy()[0], label_map(0))
    # pixel values are the written image (BGR on disk, loaded as BGR by mmcv)
    np.testing.assert_array_equal(sample['img'].data.numpy().transpose(1, 2, 0), image(0))


def test_rain_cityscapes_rate_layout_and_labels(cityscapes_tree):
    ds = _build(dict(type='RainCityscapesDataset', rain_rate=200, subset='val'),
                cityscapes_tree)
    assert (ds.name, ds.domain, len(ds)) == ('200mm', 200, 2)
    assert ds.img_infos[0]['filename'] == 'lindau/lindau_000000_000019_leftImg8bit.png'
    sample = ds[1]
    np.testing.assert_array_equal(sample['img'].data.numpy().transpose(1, 2, 0),
                                  image(5) // 2)
    np.testing.assert_array_equal(sample['gt_semantic_seg'].data.numpy()[0], label_map(5))


def test_foggy_cityscapes_beta_suffix(cityscapes_tree):
    ds = _build(dict(type='FoggyCityscapesDataset', beta=0.02, subset='train'),
                cityscapes_tree)
    assert (ds.name, ds.domain, len(ds)) == ('fog150m', 150, 4)
    assert ds.img_infos[0]['ann']['seg_map'] == \
        'aachen/aachen_000000_000019_gtFine_labelTrainIds.png'
    np.testing.assert_array_equal(ds[0]['img'].data.numpy().transpose(1, 2, 0), image(0) // 3)


def test_foggy_missing_beta_is_empty_split(cityscapes_tree):
    with pytest.raises(FileNotFoundError, match=r'no images \*_leftImg8bit_foggy_beta_0.01'):
        _build(dict(type='FoggyCityscapesDataset', beta=0.01), cityscapes_tree)


def test_acdc_condition(acdc_tree):
    ds = _build(dict(type='ACDCDataset', condition='snow', subset='val'), acdc_tree,
                pipeline=TEST_PIPELINE, test_mode=True)
    assert (ds.name, ds.domain, len(ds)) == ('acdc_snow', 4, 2)
    assert ds.img_infos[1]['ann']['seg_map'] == \
        'GOPR0003/GOPR0003_frame_000001_gt_labelTrainIds.png'
    np.testing.assert_array_equal(ds.get_gt_seg_map_by_idx(1), label_map(3))
    img = ds[0]['img'][0]
    assert tuple(img.shape) == (3, H, W)


def test_acdc_bad_condition():
    with pytest.raises(ValueError, match="condition must be one of.*'fog'.*got 'hail'"):
        build_dataset(dict(type='ACDCDataset', condition='hail', pipeline=[]))


def test_missing_root(tmp_path):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match=f'data root {missing} does not exist'):
        build_dataset(dict(type='ProcCityDataset', data_root=missing, pipeline=[]))


def test_missing_image_dir(cityscapes_tree):
    with pytest.raises(FileNotFoundError, match=r"'75mm'.*image directory .*rain/75mm"):
        _build(dict(type='RainCityscapesDataset', rain_rate=75), cityscapes_tree)


def test_image_without_label(cityscapes_tree):
    os.remove(f'{cityscapes_tree}/gtFine/val/lindau/lindau_000001_000019_'
              f'gtFine_labelTrainIds.png')
    with pytest.raises(FileNotFoundError,
                       match=r'lindau_000001_000019_leftImg8bit.png has no label'):
        _build(dict(type='CityscapesDomainDataset', img_dir='leftImg8bit/val',
                    ann_dir='gtFine/val', validate='exists'), cityscapes_tree)


def test_label_values_out_of_range(cityscapes_tree):
    bad = label_map(4)
    bad[3, 3] = 26  # a label id (car), not a trainId
    write_png(f'{cityscapes_tree}/gtFine/val/lindau/lindau_000000_000019_'
              f'gtFine_labelTrainIds.png', bad)
    with pytest.raises(ValueError, match=r'lindau_000000_000019_gtFine_labelTrainIds.png '
                                         r'has values \[26\] outside 0..18/255'):
        _build(dict(type='RainCityscapesDataset', rain_rate=25, subset='val',
                    validate='labels'), cityscapes_tree)


def test_unreadable_image(cityscapes_tree):
    path = f'{cityscapes_tree}/leftImg8bit/val/lindau/lindau_000001_000019_leftImg8bit.png'
    with open(path, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(IOError, match='unreadable image .*lindau_000001_000019'):
        _build(dict(type='CityscapesDomainDataset', img_dir='leftImg8bit/val',
                    ann_dir='gtFine/val'), cityscapes_tree)


def test_bad_arguments():
    with pytest.raises(ValueError, match='validate must be one of'):
        build_dataset(dict(type='CityscapesDomainDataset', validate='some', pipeline=[],
                           img_dir='x'))
    with pytest.raises(TypeError, match='domain must be a number'):
        build_dataset(dict(type='CityscapesDomainDataset', domain='rain', pipeline=[],
                           img_dir='x'))
    with pytest.raises(ValueError, match='rain_rate must be a number > 0'):
        build_dataset(dict(type='RainCityscapesDataset', rain_rate=0, pipeline=[]))
    with pytest.raises(TypeError, match=r"derives \['img_dir'\]"):
        build_dataset(dict(type='RainCityscapesDataset', img_dir='x', pipeline=[]))
    with pytest.raises(ValueError, match='weather=rain needs rain_rate'):
        build_dataset(dict(type='ProcCityDataset', weather='rain', pipeline=[]))


@pytest.mark.parametrize('aug', [
    dict(type='CLAHE'), dict(type='RGB2Gray'), dict(type='AdjustGamma', gamma=2.0)])
def test_mmseg_photometric_augmentations(cityscapes_tree, aug):
    pipeline = [TRAIN_PIPELINE[0], TRAIN_PIPELINE[1], aug] + TRAIN_PIPELINE[2:]
    ds = _build(dict(type='RainCityscapesDataset', rain_rate=25, subset='val'),
                cityscapes_tree, pipeline=pipeline)
    img = ds[0]['img'].data.numpy().transpose(1, 2, 0).astype(np.uint8)
    src = image(4) // 2
    if aug['type'] == 'RGB2Gray':
        # mmseg weights the channels in array order (0.299, 0.587, 0.114), truncating
        ref = (src * np.array([0.299, 0.587, 0.114])).sum(2)
        assert np.abs(img.astype(float) - ref[..., None]).max() <= 1.0
    elif aug['type'] == 'AdjustGamma':
        ref = ((src / 255.0) ** 0.5 * 255).round()
        assert np.abs(img.astype(float) - ref).max() <= 1.0
    else:
        assert img.shape == (H, W, 3) and not np.array_equal(img, src)
    np.testing.assert_array_equal(ds[0]['gt_semantic_seg'].data.numpy()[0], label_map(4))
