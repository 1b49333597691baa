"""load_config: per-family root keys reach exactly their datasets."""
import os.path as osp

import pytest

from mmseg_ext.apis.config import load_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STORM = osp.join(REPO, 'configs', '_base_', 'datasets', 'cityscapes_rain_storm.py')


def _roots(cfg):
    rain = cfg.data.val[1]
    return (cfg.data.train[0].dataset.data_root, rain.data_root, rain.label_root,
            cfg.cityscapes_root, cfg.data_root)


def test_data_root_moves_cityscapes_and_rain_labels_not_rain_images():
    cfg = load_config(STORM, dict(data_root='/cs'))
    assert _roots(cfg) == ('/cs', 'data/rain_cityscapes', '/cs', '/cs', '/cs')
    cfg = load_config(STORM, dict(rain_cityscapes_root='/rain', cityscapes_root='/cs'))
    assert _roots(cfg) == ('/cs', '/rain', '/cs', '/cs', '/cs')


def test_same_root_given_two_values_is_refused():
    with pytest.raises(ValueError, match=r"same value 'data/cityscapes' were given "
                       r"different values \('/a' and '/b'\)"):
        load_config(STORM, dict(data_root='/a', cityscapes_root='/b'))
