"""configs/_base_/datasets: every file parses, names its domains, and the stream
configs build on tiny trees."""
import glob
import os.path as osp
import shutil

import pytest
from dataset_trees import make_acdc_tree, make_cityscapes_tree
from mmcv import Config
from mmseg.datasets import build_dataset

from mmseg_ext.datasets import set_data_root
from mmseg_ext.datasets.rare_class_sampling import compute_class_stats, write_class_stats
from mmseg_ext.datasets.synth import write_proccity, write_weather

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG_DIR = osp.join(REPO, 'configs', '_base_', 'datasets')
STORM = ['clear', '25mm', '50mm', '75mm', '100mm', '200mm']


def _names(entries):
    return [e['name'] for e in (entries if isinstance(entries, list) else [entries])]


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(CFG_DIR, '*.py'))),
                         ids=osp.basename)
def test_every_dataset_entry_has_name_and_domain(path):
    cfg = Config.fromfile(path)
    entries = []
    for split in ('train', 'val', 'test'):
        part = cfg.data[split]
        entries += part if isinstance(part, list) else [part]
    for e in entries:
        e = e['dataset'] if e['type'] == 'SourceDataset' else e
        assert isinstance(e['name'], str) and isinstance(e['domain'], (int, float)), path


def test_proccity_storm_builds(tmp_path):
    root = str(tmp_path / 'pc')
    write_proccity(root, {'train': 2, 'val': 2, 'test': 2}, size=(32, 64), seed=1,
                   workers=1, progress=False)
    write_weather(root, fog=(), splits=('train', 'val', 'test'), seed=1, workers=1,
                  progress=False)
    cfg = Config.fromfile(osp.join(CFG_DIR, 'proccity_storm.py'))
    assert {c.subset for c in cfg.data.train[1:]} == {'test'}  # never the source's scenes
    assert set_data_root(cfg.data, root) == 14  # source, 6 stream, 6 val, test
    cfg.data.train[0].rare_class_sampling.min_pixels = 1
    train = [build_dataset(c) for c in cfg.data.train]
    val = [build_dataset(c) for c in cfg.data.val]
    assert type(train[0]).__name__ == 'SourceDataset' and train[0].rcs is not None
    assert [d.name for d in train[1:]] == STORM == [d.name for d in val]
    assert [d.domain for d in val] == [0, 25, 50, 75, 100, 200]
    assert [len(d) for d in train] == [2] * 7
    # the stream draws the held-out `test` scenes
    assert [osp.basename(d.ann_dir) for d in train[1:]] == ['test'] * 6
    sample = train[3][0]  # stream frames carry labels, no random augmentation
    assert tuple(sample['gt_semantic_seg'].data.shape) == (1, 128, 256)  # resized to 128x256
    assert tuple(train[0][0]['img'].data.shape) == (3, 128, 256)  # source: crop size


def test_cityscapes_rain_storm_and_acdc_build(tmp_path):
    cs = make_cityscapes_tree(str(tmp_path / 'cs'))
    acdc = make_acdc_tree(str(tmp_path / 'acdc'))
    for rate in (50, 75, 100):
        for split in ('train', 'val'):
            src = f'{cs}/leftImg8bit/{split}/rain/25mm'
            dst = f'{cs}/leftImg8bit/{split}/rain/{rate}mm'
            shutil.copytree(src, dst, dirs_exist_ok=True)
    write_class_stats(cs, compute_class_stats(cs, 'gtFine/train'))
    cfg = Config.fromfile(osp.join(CFG_DIR, 'cityscapes_rain_storm.py'))
    set_data_root(cfg.data, cs)
    cfg.data.train[0].rare_class_sampling.min_pixels = 5
    train = [build_dataset(c) for c in cfg.data.train]
    assert [d.name for d in train[1:]] == STORM
    # source: the 4 train images; stream: the 2 held-out val scenes per domain
    assert [len(d) for d in train] == [4] + [2] * 6
    assert [build_dataset(c).name for c in cfg.data.val] == STORM

    cfg = Config.fromfile(osp.join(CFG_DIR, 'cityscapes_acdc.py'))
    set_data_root(cfg.data, acdc, old_root='data/acdc')
    set_data_root(cfg.data, cs, old_root='data/cityscapes')
    cfg.data.train[0].rare_class_sampling.min_pixels = 5
    cfg.data.train = [c for c in cfg.data.train if c.get('condition') in (None, 'night', 'snow')]
    train = [build_dataset(c) for c in cfg.data.train]
    assert [(d.name, d.domain, len(d)) for d in train[1:]] == \
        [('acdc_night', 2, 2), ('acdc_snow', 4, 2)]
    with pytest.raises(FileNotFoundError, match=r"'acdc_fog': image directory .*rgb_anon/fog"):
        build_dataset(cfg.data.val[0])
