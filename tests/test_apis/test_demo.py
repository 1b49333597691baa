"""The demo's goal checks and data cache test (the stages run in `make demo`)."""
import json

import pytest

from mmseg_ext.apis.demo import check_goals, data_is_cached


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
