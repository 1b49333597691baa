"""Label sizes are checked against their images when a dataset is built."""
import cv2
import numpy as np
import pytest
from mmseg.datasets import build_dataset

from mmseg_ext.datasets.checks import check_label_size, image_size

from dataset_trees import H, TRAIN_PIPELINE, W, label_map, write_png

LABEL = 'gtFine/val/lindau/lindau_000000_000019_gtFine_labelTrainIds.png'


def _build(root, validate):
    return build_dataset(dict(type='CityscapesDomainDataset', img_dir='leftImg8bit/val',
                              ann_dir='gtFine/val', name='clear', data_root=root,
                              pipeline=TRAIN_PIPELINE, validate=validate))


def test_image_size_reads_the_header(tmp_path):
    write_png(str(tmp_path / 'a.png'), np.zeros((5, 7), np.uint8))
    assert image_size(str(tmp_path / 'a.png')) == (7, 5)
    (tmp_path / 'b.png').write_bytes(b'not a png')
    with pytest.raises(IOError, match='unreadable image .*b.png'):
        image_size(str(tmp_path / 'b.png'))


@pytest.mark.parametrize('shape', [(H - 4, W), (H // 2, W // 2)],
                         ids=['other-aspect', 'half-size'])
def test_label_of_another_size_is_refused_when_built(cityscapes_tree, shape):
    small = cv2.resize(label_map(2), shape[::-1], interpolation=cv2.INTER_NEAREST)
    write_png(f'{cityscapes_tree}/{LABEL}', small)
    for validate in ('full', 'labels'):
        with pytest.raises(ValueError, match=(
                rf"CityscapesDomainDataset 'clear': label .*lindau_000000_000019_gtFine_"
                rf"labelTrainIds.png is {shape[0]}x{shape[1]} \(HxW\) but its image "
                rf".*lindau_000000_000019_leftImg8bit.png is {H}x{W}")):
            _build(cityscapes_tree, validate)
    assert len(_build(cityscapes_tree, 'exists')) == 2  # 'exists' reads no file


def test_check_label_size_passes_equal_sizes(cityscapes_tree):
    img = f'{cityscapes_tree}/leftImg8bit/val/lindau/lindau_000000_000019_leftImg8bit.png'
    assert check_label_size(img, f'{cityscapes_tree}/{LABEL}') is None
