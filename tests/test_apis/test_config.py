"""load_config: per-family root keys reach exactly their datasets; write_config:
what it writes loads back equal, types included, or it raises."""
import os.path as osp

import pytest
from mmcv.utils import Config

from mmseg_ext.apis.config import config_diff, load_config, write_config

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


def test_config_diff_sees_types_and_write_config_refuses_what_cannot_load(tmp_path):
    assert config_diff(dict(a=(1, 2)), dict(a=[1, 2])) == ["a: tuple (1, 2) != list [1, 2]"]
    assert config_diff(dict(a=[dict(b=1)]), dict(a=[dict(b=2)])) == ['a[0].b: 1 != 2']
    path = str(tmp_path / 'c.py')
    write_config(dict(s="it's \"quoted\"", t=(1, (2.5e-5, None)), d={'a-b': [True]}), path)
    assert Config.fromfile(path).t == (1, (2.5e-5, None))
    with pytest.raises(ValueError, match="config key 'x' holds a value with no Python literal"):
        write_config(dict(x=float('inf')), str(tmp_path / 'inf.py'))
    with pytest.raises(ValueError, match=r"\['class'\] are not Python identifiers"):
        write_config({'class': 1}, str(tmp_path / 'kw.py'))
