"""Every method streams Cityscapes -> rain storm and Cityscapes -> ACDC on tiny trees in
the published layouts, with source crops (32x64) smaller than the stream frames
(64x128 Cityscapes, 60x108 ACDC), as real data has them (512x512 vs 512x1024)."""
import json
import math
import os.path as osp
import sys
import types

import numpy as np
import pytest
from fixtures.online_cfg import fixture_cfg, write_source_checkpoint
from fixtures.real_layouts import build_all

from online_src.apis.online import train_online
from mmseg_ext.datasets.prepare import prepare_cityscapes

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import sweep_lists as lists  # noqa: E402
from experiments import experiment_cfg, generate_experiment_cfgs  # noqa: E402
from online_src.apis.sweep import train_config  # noqa: E402

STORM = ['clear', '25mm', '200mm']  # the storm's ends, to keep the test short
ACDC = ['acdc_fog', 'acdc_night', 'acdc_rain', 'acdc_snow']
ORDERS = dict(cs_storm=STORM, cs_acdc=ACDC)
# Held-out sets evaluated before the stream: every domain of the config (the fixture
# config evaluates with online_evaluation.eval_domains='current': all sets first).
HELD_OUT = dict(cs_storm=['clear', '25mm', '50mm', '75mm', '100mm', '200mm'], cs_acdc=ACDC)
FRAMES = 2
# The experiment lists plus the DACS variants they do not cross.
LISTS = types.SimpleNamespace(**{k: getattr(lists, k) for k in dir(lists) if k.isupper()})
LISTS.METHODS = dict(lists.METHODS,
                     dacs_ewc=dict(bases=['configs/_base_/uda/dacs_ewc.py']),
                     oracle=dict(bases=['configs/_base_/uda/dacs_oracle.py']))
RUNS = [(m, 'full') for m in LISTS.METHODS] + [('dacs', 'budget'), ('dacs', 'mad')]


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    """The four trees, Cityscapes prepared by the project's prep tool."""
    found = build_all(str(tmp_path_factory.mktemp('real')))
    report = prepare_cityscapes(found['cityscapes'], expected=None)
    assert report.complete and report.counts['cityscapes train labels'] == 4
    return found


def _stream(roots, tmp_path, dataset, method, variant):
    cfg = fixture_cfg(experiment_cfg(dataset=dataset, method=method, variant=variant,
                                     lists=LISTS),
                      roots, str(tmp_path / 'run'), None, ORDERS[dataset], FRAMES)
    cfg.load_from = write_source_checkpoint(cfg, str(tmp_path / 'source.pth'))
    train_online(cfg)
    with open(osp.join(cfg.work_dir, 'results.json')) as f:
        rows = json.load(f)
    return cfg, rows, np.load(osp.join(cfg.work_dir, 'fps.npy'))


@pytest.mark.parametrize('dataset', ['cs_storm', 'cs_acdc'])
@pytest.mark.parametrize('method,variant', RUNS, ids=[f'{m}-{v}' for m, v in RUNS])
def test_every_method_streams_real_layouts(roots, tmp_path, dataset, method, variant):
    order = ORDERS[dataset]
    cfg, rows, fps = _stream(roots, tmp_path, dataset, method, variant)
    # one row before the stream, then one per visited domain
    assert [r['after'] for r in rows] == ['init'] + order
    assert [k[:-len('.mIoU')] for k in rows[0] if k.endswith('.mIoU')] == HELD_OUT[dataset]
    for row, domain in zip(rows[1:], order):
        assert math.isfinite(row[f'{domain}.mIoU']) and 0 <= row[f'{domain}.mIoU'] <= 100
        assert math.isfinite(row['stream.mIoU'])
    assert [r['frames'] for r in rows[1:]] == [FRAMES * (i + 1) for i in range(len(order))]
    assert fps.shape[0] == FRAMES * len(order)  # one timing row per streamed frame
    if method == 'source':  # inference only: the held-out numbers never move
        assert rows[-1][f'{order[-1]}.mIoU'] == pytest.approx(rows[0][f'{order[-1]}.mIoU'])


EXPERIMENT_RUNS = [(exp, i) for exp in (5, 6, 7)
                   for i in range(len(generate_experiment_cfgs(exp)))]


@pytest.mark.parametrize('exp,index', EXPERIMENT_RUNS,
                         ids=[f'exp{e}-{i}' for e, i in EXPERIMENT_RUNS])
def test_generated_cityscapes_experiments_train(roots, tmp_path, exp, index):
    """Experiments 5-7 as generated, one frame per domain of a two-domain stream."""
    cfg_dict = generate_experiment_cfgs(exp)[index]
    dataset = 'cs_acdc' if cfg_dict['name_parts']['tgt'] == 'acdc' else 'cs_storm'
    order = ORDERS[dataset][:2]
    cfg = fixture_cfg(cfg_dict, roots, str(tmp_path / 'run'), None, order, frames=1)
    cfg.load_from = write_source_checkpoint(cfg, str(tmp_path / 'source.pth'))
    summary = train_config(cfg)
    with open(osp.join(cfg.work_dir, 'results.json')) as f:
        rows = json.load(f)
    assert [r['after'] for r in rows] == ['init'] + order
    assert [r['frames'] for r in rows[1:]] == [1, 2]
    assert all(math.isfinite(rows[-1][f'{d}.mIoU']) for d in order[-1:])
    assert isinstance(summary, dict) and summary
