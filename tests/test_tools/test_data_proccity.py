"""tools/data/proccity.py and tools/data/weather.py: layouts, determinism, datasets read them."""
import hashlib
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmseg.datasets import build_dataset

from mmseg_ext.datasets.synth import load_depth, render_scene

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool(name):
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', osp.join(REPO, 'tools', 'data', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _digest(root):
    h = hashlib.sha1()
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if f.endswith('.png'):
                with open(osp.join(d, f), 'rb') as fh:
                    h.update(osp.relpath(osp.join(d, f), root).encode() + fh.read())
    return h.hexdigest()


@pytest.fixture(scope='module')
def proccity_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('proccity') / 'pc')
    _tool('proccity').main([root, '--train', '3', '--val', '2', '--size', '32', '64',
                            '--seed', '5', '--workers', '1', '--no-progress'])
    _tool('weather').main([root, '--rain', '25', '200', '--fog', '150', '--night', '2',
                           '--lensdrops', '5', '--workers', '1', '--no-progress'])
    return root


def test_clear_layout_and_depth(proccity_root):
    name = 'alderbrook_000000_000019'
    img = cv2.imread(f'{proccity_root}/leftImg8bit/train/alderbrook/{name}_leftImg8bit.png')
    lab = cv2.imread(f'{proccity_root}/gtFine/train/alderbrook/{name}_gtFine_labelTrainIds.png',
                     cv2.IMREAD_UNCHANGED)
    depth = load_depth(f'{proccity_root}/depth/train/alderbrook/{name}_depth.png')
    assert img.shape == (32, 64, 3) and lab.shape == (32, 64) and lab.dtype == np.uint8
    with open(f'{proccity_root}/proccity.json') as f:
        meta = json.load(f)
    assert meta['splits'] == {'train': 3, 'val': 2} and meta['size'] == [32, 64]
    assert sum(meta['class_pixels'].values()) == 5 * 32 * 64
    # the files hold what render_scene gives for the derived seed (depth to 1 cm)
    from mmseg_ext.datasets.synth.writers import _scene_seed
    ref_img, ref_lab, ref_depth = render_scene(_scene_seed(5, 'train', 0), 32, 64)
    np.testing.assert_array_equal(img[..., ::-1], ref_img)
    np.testing.assert_array_equal(lab, ref_lab)
    finite = np.isfinite(ref_depth)
    np.testing.assert_array_equal(np.isfinite(depth), finite)
    assert np.abs(depth[finite] - ref_depth[finite]).max() <= 0.005 + 1e-6
    assert sorted(os.listdir(f'{proccity_root}/leftImg8bit/val')) == ['dunmore', 'rain']


def test_same_seed_same_bytes(proccity_root, tmp_path):
    again = str(tmp_path / 'again')
    _tool('proccity').main([again, '--train', '3', '--val', '2', '--size', '32', '64',
                            '--seed', '5', '--workers', '2', '--no-progress'])
    _tool('weather').main([again, '--rain', '25', '200', '--fog', '150', '--night', '2',
                           '--lensdrops', '5', '--workers', '2', '--no-progress'])
    assert _digest(again) == _digest(proccity_root)


def test_weather_layouts_read_by_datasets(proccity_root):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    sets = {
        'clear': dict(weather='clear'),
        '200mm': dict(weather='rain', rain_rate=200),
        'fog150m': dict(weather='fog', visibility=150),
        'night2': dict(weather='night', severity=2),
        'lensdrops5': dict(weather='lensdrops', severity=5),
    }
    loaded = {}
    for name, kw in sets.items():
        ds = build_dataset(dict(type='ProcCityDataset', data_root=proccity_root, subset='val',
                                pipeline=pipeline, **kw))
        assert (ds.name, len(ds)) == (name, 2)
        loaded[name] = ds[1]
    assert osp.isfile(f'{proccity_root}/leftImg8bit_foggy/val/dunmore/'
                      f'dunmore_000001_000019_leftImg8bit_foggy_beta_0.02.png')
    assert osp.isfile(f'{proccity_root}/leftImg8bit_night/val/s2/dunmore/'
                      f'dunmore_000001_000019_leftImg8bit.png')
    assert osp.isfile(f'{proccity_root}/camera/val/dunmore/dunmore_000001_000019_camera.json')
    for name in ('200mm', 'fog150m', 'night2'):
        np.testing.assert_array_equal(loaded[name]['gt_semantic_seg'],
                                      loaded['clear']['gt_semantic_seg'])
        assert np.abs(loaded[name]['img'].astype(int) - loaded['clear']['img']).mean() > 5


def test_weather_needs_depth(proccity_root, tmp_path):
    root = str(tmp_path / 'nodepth')
    os.makedirs(f'{root}/leftImg8bit/val/x')
    cv2.imwrite(f'{root}/leftImg8bit/val/x/x_0_leftImg8bit.png', np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match=r'x_0_leftImg8bit.png has no depth map'):
        _tool('weather').main([root, '--rain', '25', '--fog', '--splits', 'val',
                               '--workers', '1', '--no-progress'])
    with pytest.raises(FileNotFoundError, match='no clear images: directory .*train'):
        _tool('weather').main([root, '--splits', 'train', '--workers', '1', '--no-progress'])


def test_class_stats_tool_matches_bincount(proccity_root, tmp_path):
    stats_path = f'{proccity_root}/sample_class_stats.json'
    with open(stats_path) as f:
        written_by_generator = json.load(f)
    os.remove(stats_path)
    _tool('class_stats').main([proccity_root, '--ann-dir', 'gtFine/train', '--workers', '1'])
    with open(stats_path) as f:
        stats = json.load(f)
    assert stats == written_by_generator and len(stats) == 3
    lab = cv2.imread(f'{proccity_root}/{stats[1]["file"]}', cv2.IMREAD_UNCHANGED)
    counts = np.bincount(lab.ravel(), minlength=19)
    assert {k: v for k, v in stats[1].items() if k != 'file'} == \
        {str(c): int(n) for c, n in enumerate(counts) if n}
    with open(f'{proccity_root}/samples_with_class.json') as f:
        with_class = json.load(f)
    assert sum(len(v) for v in with_class.values()) == sum(len(s) - 1 for s in stats)
    with pytest.raises(FileNotFoundError, match='label directory .*gtFine/test does not'):
        _tool('class_stats').main([proccity_root, '--ann-dir', 'gtFine/test'])


def test_condition_arguments(proccity_root, tmp_path):
    with pytest.raises(ValueError, match='severity must be an integer in 1..5, got 7'):
        _tool('weather').main([proccity_root, '--rain', '--fog', '--snow', '7', '--workers',
                               '1', '--no-progress'])
    with pytest.raises(ValueError, match='ProcCityDataset: weather=snow needs severity in '
                                         r'1..5, got None'):
        build_dataset(dict(type='ProcCityDataset', data_root=proccity_root, weather='snow',
                           subset='val', pipeline=[]))
    ds = build_dataset(dict(type='ProcCityDataset', data_root=proccity_root, weather='night',
                            severity=2, subset='train', pipeline=[]))
    assert (ds.name, ds.domain, len(ds)) == ('night2', 2, 3)
    # a tree without camera files (rendered before version 2) is refused by name
    root = str(tmp_path / 'old')
    _tool('proccity').main([root, '--train', '0', '--val', '1', '--size', '32', '64',
                            '--workers', '1', '--no-progress'])
    os.remove(f'{root}/camera/val/dunmore/dunmore_000000_000019_camera.json')
    with pytest.raises(FileNotFoundError, match='has no camera file .*dunmore_000000_000019'):
        _tool('weather').main([root, '--rain', '25', '--fog', '--workers', '1',
                               '--no-progress'])


def test_target_style_and_test_split(tmp_path):
    root = str(tmp_path / 'tgt')
    _tool('proccity').main([root, '--city', 'target', '--train', '0', '--val', '1', '--test',
                            '2', '--size', '32', '64', '--workers', '1', '--no-progress'])
    with open(f'{root}/proccity.json') as f:
        meta = json.load(f)
    assert (meta['style'], meta['version'], meta['splits']) == \
        ('target', 2, {'train': 0, 'val': 1, 'test': 2})
    assert len(os.listdir(f'{root}/leftImg8bit/test/eastwick')) == 2
    # weather renders every split present by default
    assert _tool('weather').main([root, '--rain', '--fog', '--wet', '1', '--workers', '1',
                                  '--no-progress']) is None
    assert sorted(os.listdir(f'{root}/leftImg8bit_wet')) == ['test', 'val']


def test_contact_sheet_tool(tmp_path):
    out = str(tmp_path / 'sheets')
    _tool('contact_sheet').main([out, '--seeds', '0', '1', '--conditions', 'night', 'fog',
                                 '--size', '32', '64', '--colors', '0'])
    night = cv2.imread(f'{out}/night.png')
    fog = cv2.imread(f'{out}/fog.png')
    cities = cv2.imread(f'{out}/cities.png')
    assert night.shape == (2 * 32, 6 * 64, 3)  # clear + 5 severities per scene row
    assert fog.shape == (2 * 32, 5 * 64, 3)  # clear + 4 visibilities
    assert cities.shape == (4 * 32, 4 * 64, 3)  # 2 source rows above 2 target rows
    # the first tile is the clear scene; the night tiles darken left to right
    ref = render_scene(0, 32, 64)[0]
    np.testing.assert_array_equal(night[:32, :64, ::-1], ref)
    means = [night[:, 64 * k:64 * (k + 1)].mean() for k in range(1, 6)]
    assert means[0] > means[-1]
    with pytest.raises(ValueError, match="unknown condition 'hail'"):
        _tool('contact_sheet').main([out, '--conditions', 'hail', '--size', '32', '64'])


def test_weather_uses_the_scene_camera(proccity_root):
    import zlib

    from mmseg_ext.datasets.synth import load_camera, rain_dir, render_rain_scene
    from mmseg_ext.datasets.synth.writers import _scene_seed
    name = 'dunmore_000001_000019'
    img, label, depth, cam = render_scene(_scene_seed(5, 'val', 1), 32, 64,
                                          with_camera=True)
    stored = load_camera(f'{proccity_root}/camera/val/dunmore/{name}_camera.json')
    assert stored == cam  # the generator's camera, written to Cityscapes' camera file
    depth = load_depth(f'{proccity_root}/depth/val/dunmore/{name}_depth.png')
    key = zlib.crc32(f'val/dunmore/{name}'.encode())
    expect = render_rain_scene(img, label, depth, cam, 200,
                               np.random.default_rng([0, key, 200000]))
    got = cv2.imread(f'{proccity_root}/{rain_dir("val", 200)}/dunmore/{name}_leftImg8bit.png')
    np.testing.assert_array_equal(got[..., ::-1], expect)
