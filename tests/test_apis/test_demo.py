"""The demo's goal checks and data cache test (the stages run in `make demo`)."""
import json

import pytest

from online_src.apis.demo import check_goals, data_is_cached


def _summary(rain, per200, final, fps, adapt_fps, inference_fps):
    return dict(rain_mIoU=rain, per_domain={'clear': 60.0, '200mm': per200},
                final_minus_first=final, fps=fps, adapt_fps=adapt_fps,
                inference_fps=inference_fps)


def test_goals_are_measured_against_source_only():
    goals = check_goals(dict(
        source_only=_summary(30.0, 10.0, 0.0, 10.0, float('nan'), 10.0),
        dacs=_summary(37.0, 20.0, -0.5, 1.5, 1.5, float('nan')),
        dacs_hamlet=_summary(34.0, 15.0, 0.0, 6.0, 1.6, 9.0)))
    assert goals['dacs_minus_source_rain_mIoU'] == dict(value=7.0, target='>= 5', met=True)
    assert goals['dacs_minus_source_200mm']['value'] == pytest.approx(10.0)
    assert goals['dacs_final_minus_first_clear']['met'] is True
    assert goals['dacs_adapt_fps_over_inference_fps']['value'] == pytest.approx(0.15)
    assert goals['hamlet_fps_over_source_only_fps'] == dict(value=0.6, target='>= 0.5',
                                                           met=True)
    assert goals['hamlet_fps_over_own_inference_fps']['value'] == pytest.approx(6 / 9)
    assert goals['hamlet_share_of_dacs_rain_gain']['value'] == pytest.approx(4 / 7)


def test_data_cache_needs_meta_size_and_rain_dirs(tmp_path):
    data = dict(root=str(tmp_path), splits=dict(train=2), size=(128, 256), rain=(25,),
                seed=0)
    assert not data_is_cached(data)
    (tmp_path / 'sample_class_stats.json').write_text('[]')
    (tmp_path / 'proccity.json').write_text(json.dumps(
        dict(size=[128, 256], seed=0, splits=dict(train=2))))
    assert not data_is_cached(data)  # no rain folder yet
    from mmseg_ext.datasets.synth import rain_dir
    (tmp_path / rain_dir('train', 25)).mkdir(parents=True)
    assert data_is_cached(data)
    assert not data_is_cached(dict(data, size=(256, 512)))
    assert not data_is_cached(dict(data, splits=dict(train=3)))


def test_share_of_gain_is_nan_without_a_dacs_gain():
    goals = check_goals(dict(
        source_only=_summary(30.0, 10.0, 0.0, 10.0, float('nan'), 10.0),
        dacs=_summary(29.0, 9.0, 0.0, 1.5, 1.5, float('nan')),
        dacs_hamlet=_summary(29.5, 9.0, 0.0, 6.0, 1.6, 9.0)))
    assert goals['hamlet_share_of_dacs_rain_gain']['met'] is False
    assert goals['hamlet_share_of_dacs_rain_gain']['value'] != \
        goals['hamlet_share_of_dacs_rain_gain']['value']  # nan
    assert goals['dacs_minus_source_rain_mIoU']['met'] is False


def test_source_cache_follows_the_resolved_config(tmp_path):
    import torch
    from mmcv.utils import Config

    from online_src.apis.demo import source_is_cached
    from mmseg_ext.apis.config import config_hash
    from mmseg_ext.core.checkpoint import atomic_save
    base = tmp_path / 'base.py'
    base.write_text("runner = dict(type='IterBasedRunner', max_iters=3000)\n")
    cfg_file = tmp_path / 'source.py'
    cfg_file.write_text("_base_ = ['base.py']\noptimizer = dict(lr=6e-4)\n")
    flat = tmp_path / 'flat.py'  # same keys and values, another layout
    flat.write_text("optimizer = dict(lr=0.0006)\n"
                    "runner = dict(max_iters=3000, type='IterBasedRunner')\n")
    fingerprint = config_hash(Config.fromfile(str(cfg_file)))
    assert len(fingerprint) == 16
    assert config_hash(Config.fromfile(str(flat))) == fingerprint
    ckpt = tmp_path / 'source.pth'
    source = dict(config=str(cfg_file), checkpoint=str(ckpt))
    assert not source_is_cached(source)  # no file
    atomic_save(dict(state_dict={'w': torch.zeros(1)}, meta=dict(iters=3000)), str(ckpt))
    assert not source_is_cached(source)  # weights from before fingerprints
    atomic_save(dict(state_dict={'w': torch.zeros(1)},
                     meta=dict(iters=3000, config_fingerprint=fingerprint)), str(ckpt))
    assert source_is_cached(source)
    base.write_text("runner = dict(type='IterBasedRunner', max_iters=1500)\n")
    assert not source_is_cached(source)  # the recipe changed under the cache
