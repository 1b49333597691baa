"""Bootstrap confidence intervals of the report and its required baseline rows."""
import json

import numpy as np
import pytest
import torch
from mmseg.core.evaluation.metrics import total_area_to_metrics

from mmseg_ext.core.evaluation import (bootstrap_samples, bootstrap_weights, compare_runs,
                                       confidence_interval, miou_from_areas,
                                       report_markdown, summarize_run)


def _confusions(n=12, classes=3, seed=1):
    """Random per-image confusion matrices (label rows x prediction columns)."""
    rng = np.random.default_rng(seed)
    conf = rng.integers(0, 20, size=(n, classes, classes)).astype(float)
    conf[:, 2, :] = 0  # class 2 is never labelled ...
    conf[:3, :, 2] = 0  # ... and only some images predict it
    return conf


def _areas(conf):
    diag = np.diagonal(conf, axis1=1, axis2=2)
    label, pred = conf.sum(2), conf.sum(1)
    return np.stack([diag, label + pred - diag, pred, label], axis=1)


def test_miou_from_areas_equals_mmseg_metrics():
    areas = _areas(_confusions()).sum(0)
    ref = total_area_to_metrics(*[torch.as_tensor(a) for a in areas], metrics=['mIoU'])
    assert miou_from_areas(areas) == pytest.approx(100 * np.nanmean(ref['IoU']))
    assert np.isnan(miou_from_areas(np.zeros((4, 3))))


def test_bootstrap_ci_equals_recomputation_from_confusion_matrices():
    conf = _confusions()
    weights = bootstrap_weights(len(conf), 'rain5', samples=200, seed=3)
    assert weights.shape == (200, 12) and (weights.sum(1) == 12).all()
    assert np.array_equal(weights, bootstrap_weights(12, 'rain5', samples=200, seed=3))
    assert not np.array_equal(weights, bootstrap_weights(12, 'fog5', samples=200, seed=3))
    expected = []
    for w in weights:  # test side: sum the resampled confusion matrices, then IoU
        total = np.tensordot(w, conf, axes=1)
        diag = np.diag(total)
        union = total.sum(0) + total.sum(1) - diag
        expected.append(100 * np.mean([i / u for i, u in zip(diag, union) if u > 0]))
    got = bootstrap_samples(_areas(conf), 'rain5', samples=200, seed=3)
    assert got == pytest.approx(np.array(expected))
    lo, hi = confidence_interval(got)
    assert lo == pytest.approx(np.percentile(expected, 2.5))
    assert hi == pytest.approx(np.percentile(expected, 97.5))
    assert lo < miou_from_areas(_areas(conf).sum(0)) < hi
    with pytest.raises(ValueError, match="held-out set of 'x' needs images"):
        bootstrap_weights(0, 'x')


def _run(tmp_path, name, per_visit_conf, order=('clear', 'rain5', 'clear')):
    """A run whose evaluations keep per-image areas (as OnlineEvalHook writes them)."""
    work = tmp_path / name
    (work / 'per_image').mkdir(parents=True)
    rows = []
    for i, (after, conf) in enumerate(zip(('init',) + tuple(order), per_visit_conf)):
        domain = order[0] if after == 'init' else after
        rel = f'per_image/eval{i:02d}_{domain}.npy'
        np.save(work / rel, _areas(conf))
        rows.append({'eval': i, 'after': after, 'visit': i - 1,
                     f'{domain}.mIoU': float(miou_from_areas(_areas(conf).sum(0))),
                     f'{domain}.per_image': rel})
    (work / 'results.json').write_text(json.dumps(rows))
    (work / 'summary.json').write_text(json.dumps(dict(
        domain_order=list(order), domain_values={'clear': 0, 'rain5': 5})))
    return str(work)


def test_summary_has_paired_bootstrap_intervals(tmp_path):
    confs = [_confusions(seed=s) for s in (1, 2, 3, 4)]
    s = summarize_run(_run(tmp_path, 'source_only', confs))
    rain = bootstrap_samples(_areas(confs[2]), 'rain5')
    assert s['ci']['per_domain']['rain5'] == pytest.approx(confidence_interval(rain))
    assert s['ci']['rain_mIoU'] == pytest.approx(confidence_interval(rain))
    clear = (bootstrap_samples(_areas(confs[1]), 'clear') +
             bootstrap_samples(_areas(confs[3]), 'clear')) / 2
    assert s['ci']['per_domain']['clear'] == pytest.approx(confidence_interval(clear))
    assert s['ci']['mIoU'] == pytest.approx(
        confidence_interval((2 * clear + rain) / 3))
    assert s['init_per_domain']['clear'] == pytest.approx(
        float(miou_from_areas(_areas(confs[0]).sum(0))))
    lo, hi = s['ci']['per_domain']['rain5']
    assert f'{s["per_domain"]["rain5"]:.2f} [{lo:.2f}, {hi:.2f}]' in report_markdown([s])


def test_report_always_has_the_baseline_rows(tmp_path):
    confs = [_confusions(seed=s) for s in (1, 2, 3, 4)]
    runs = {n: _run(tmp_path, n, confs) for n in ('source_only', 'adabn', 'tent')}
    baselines = ('source_only', 'adabn', 'oracle')
    with pytest.raises(ValueError, match=r"runs \['oracle'\] are missing"):
        compare_runs(list(runs.values()), list(runs), baselines=baselines)
    runs['oracle'] = _run(tmp_path, 'oracle', confs)
    summaries, text = compare_runs(list(runs.values()), list(runs), baselines=baselines)
    rows = [line.split(' | ')[0][2:] for line in text.splitlines()
            if line.startswith('| ') and ' [' in line]
    assert set(baselines) <= set(rows)
