"""Stream accuracy, results files, the eval hook's metrics and the run report."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv.parallel import DataContainer as DC
from mmseg.core.evaluation.metrics import intersect_and_union

from mmseg_ext.core.evaluation import (OnlineEvalHook, ResultsTable, StreamAccuracy,
                                       compare_runs, report_markdown, summarize_run)


def test_stream_accuracy_matches_hand_computed_iou():
    acc = StreamAccuracy(num_classes=2, class_names=['a', 'b'])
    label = torch.tensor([[[0, 0, 1, 1]]])
    pred = torch.tensor([[[0, 1, 1, 1]]])
    acc.update('25mm', pred, label[:, None])
    m = acc.metrics('25mm')
    assert m['IoU.a'] == pytest.approx(50.0)  # 1 / (2 + 1 - 1)
    assert m['IoU.b'] == pytest.approx(200 / 3)  # 2 / 3
    assert m['mIoU'] == pytest.approx((50 + 200 / 3) / 2)
    assert m['aAcc'] == pytest.approx(75.0)
    acc.update('25mm', torch.zeros(1, 1, 4, dtype=torch.long),
               torch.tensor([[[255, 0, 0, 0]]]))
    assert acc.metrics('25mm')['aAcc'] == pytest.approx(100 * 6 / 7)
    clone = StreamAccuracy(2)
    clone.load_state_dict(acc.state_dict())
    assert clone.metrics('25mm')['mIoU'] == pytest.approx(acc.metrics('25mm')['mIoU'])
    with pytest.raises(KeyError, match="no frames of 'fog'"):
        acc.metrics('fog')
    with pytest.raises(ValueError, match='differs from label shape'):
        acc.update('x', torch.zeros(1, 2, 2, dtype=torch.long), torch.zeros(1, 1, 2, 3))


def test_results_table_csv_and_json(tmp_path):
    table = ResultsTable(str(tmp_path))
    table.append(dict(eval=0, after='init', **{'clear.mIoU': 50.0, 'clear.IoU.road': 9.0}))
    table.append(dict(eval=1, after='clear', **{'clear.mIoU': 60.0, 'stream.mIoU': 1.5}))
    lines = open(tmp_path / 'results.csv').read().splitlines()
    assert lines == ['eval,after,clear.mIoU,stream.mIoU', '0,init,50.0000,',
                     '1,clear,60.0000,1.5000']
    again = ResultsTable(str(tmp_path))
    assert len(again.load(keep=1)) == 1 and again.rows[0]['clear.IoU.road'] == 9.0


class _Oracle(nn.Module):
    """Predicts the label of the image it is given (stored in the meta)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, img, img_metas, return_loss=True, rescale=True):
        return [m['label'] for m in img_metas[0]]


class _Set:
    CLASSES = ('a', 'b')
    PALETTE = [[0, 0, 0], [255, 255, 255]]
    name = 'clear'

    def __init__(self):
        self.labels = [np.array([[0, 1], [1, 1]]), np.array([[0, 0], [0, 1]])]

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return dict(img=[torch.zeros(3, 2, 2)],
                    img_metas=[DC(dict(label=self.labels[i]), cpu_only=True)])

    def pre_eval(self, preds, indices):
        return [intersect_and_union(p, self.labels[i], 2, 255, label_map=dict(),
                                    reduce_zero_label=False)
                for p, i in zip(preds, indices)]


def test_eval_hook_scores_a_perfect_model_100(tmp_path):
    hook = OnlineEvalHook([_Set()], samples_per_gpu=2)
    m = hook.evaluate_dataset(_Oracle(), _Set(), image_dir=str(tmp_path / 'show'))
    assert m['mIoU'] == pytest.approx(100.0) and m['aAcc'] == pytest.approx(100.0)
    assert osp.isfile(tmp_path / 'show' / '00001.png')
    areas = hook.evaluate_areas(_Oracle(), _Set())
    assert areas.shape == (2, 4, 2)
    assert areas[:, 0].tolist() == [[1.0, 3.0], [3.0, 1.0]]  # per-image intersections
    first = OnlineEvalHook([_Set()], max_images=1).evaluate_dataset(_Oracle(), _Set())
    assert first['IoU.a'] == pytest.approx(100.0) and first['aAcc'] == pytest.approx(100.0)
    with pytest.raises(ValueError, match='max_images must be >= 1'):
        OnlineEvalHook([_Set()], max_images=0)
    with pytest.raises(ValueError, match="eval_domains must be one of"):
        OnlineEvalHook([_Set()], eval_domains='some')
    with pytest.raises(ValueError, match="two validation datasets are named 'clear'"):
        OnlineEvalHook([_Set(), _Set()])


def _fake_run(tmp_path, name, values, fps):
    work = tmp_path / name
    work.mkdir()
    order = ['clear', '25mm', '200mm', 'clear']
    rows = [dict(eval=0, after='init', visit=-1, **{'clear.mIoU': values[0]})]
    rows += [dict(eval=i + 1, after=d, visit=i, **{f'{d}.mIoU': v})
             for i, (d, v) in enumerate(zip(order, values))]
    (work / 'results.json').write_text(json.dumps(rows))
    (work / 'summary.json').write_text(json.dumps(dict(
        domain_order=order, domain_values={'clear': 0, '25mm': 25, '200mm': 200},
        timing=dict(fps=fps, adapt_fps=fps, inference_fps=float('nan')),
        stream_accuracy={'clear': {'mIoU': 40.0}, '25mm': {'mIoU': 30.0}})))
    return str(work)


def test_summary_and_markdown_report(tmp_path):
    s = summarize_run(_fake_run(tmp_path, 'dacs', [60.0, 50.0, 40.0, 59.0], 2.0))
    assert s['mIoU'] == pytest.approx(52.25)
    assert s['rain_mIoU'] == pytest.approx(45.0)
    assert s['final_minus_first'] == pytest.approx(-1.0)
    assert s['per_domain'] == {'clear': 59.5, '25mm': 50.0, '200mm': 40.0}
    assert s['stream_mIoU'] == pytest.approx(35.0)
    assert s['final_minus_initial'] == pytest.approx(-1.0)
    md = report_markdown([s])
    assert '| dacs | 52.25 | 45.00 | 35.00 | -1.00 | -1.00 | 2.00 | 2.00 | - |' in md
    assert np.isnan(s['ci']['mIoU']).all()  # no per-image areas: the value alone
    other = _fake_run(tmp_path, 'src', [60.0, 30.0, 20.0, 60.0], 9.0)
    summaries, text = compare_runs([other, s['work_dir']], ['source', 'dacs'],
                                   out_dir=str(tmp_path / 'report'))
    assert [x['name'] for x in summaries] == ['source', 'dacs']
    with open(tmp_path / 'report' / 'report.json') as f:
        assert json.load(f)['source']['rain_mIoU'] == pytest.approx(25.0)
    assert osp.getsize(tmp_path / 'report' / 'miou_stream.png') > 1000
    with pytest.raises(FileNotFoundError, match='has no results.json'):
        summarize_run(str(tmp_path))


@pytest.mark.parametrize('mode,init,after', [
    ('stream', ['clear', '200mm'], ['clear', '200mm']),
    ('all', ['clear', '25mm', '200mm'], ['clear', '25mm', '200mm']),
    ('current', ['clear', '25mm', '200mm'], ['200mm'])])
def test_eval_domains_follow_the_stream(mode, init, after):
    """A run streaming two of three domains evaluates those two ('stream', the
    default) unless told 'all'; 'current' evaluates every set first (the
    references), then only the visited domain."""
    sets = []
    for name in ('clear', '25mm', '200mm'):
        s = _Set()
        s.name = name
        sets.append(s)
    hook = OnlineEvalHook(sets, eval_domains=mode)
    assert OnlineEvalHook(sets).eval_domains == 'stream'
    calls = []
    hook._evaluate = lambda runner, a, visit, domains: calls.append((a, domains))

    class Runner:
        domain_order = ['clear', '200mm']
        epoch = 1
        work_dir = None

    hook.before_run(Runner)
    hook.after_train_epoch(Runner)
    assert calls == [('init', init), ('200mm', after)]


def test_figure_labels():
    from mmseg_ext.core.evaluation import domain_label, nan_note, short_names
    assert [domain_label(n) for n in ('init', '25mm', '200mm', 'fog150m', 'acdc_night',
                                      'night3', 'clear', 'source')] == [
        'before the stream', 'rain 25 mm/h', 'rain 200 mm/h', 'fog 150 m', 'ACDC night',
        'night 3', 'clear', 'source']
    sweep = ['261129_1200_proccity2storm_dacs_rcs_nocpl_segformer_mitb0_online_s0_ab12c',
             '261129_1200_proccity2storm_tent_rcs_nocpl_segformer_mitb0_online_s0_9f3e1']
    assert short_names(sweep) == ['dacs_ab12c', 'tent_9f3e1']
    assert short_names(['work_dirs/a', 'work_dirs/a']) == ['work_dirs/a', 'work_dirs/a']
    assert short_names(['dacs']) == ['dacs']
    assert nan_note([1.0, 2.0]) == ''
    assert nan_note([1.0, float('nan')]) == ' (gaps: no value)'
    assert nan_note([float('nan')]) == ' (no value)'


def test_cross_run_plot_has_no_init_tick_and_a_title(tmp_path, monkeypatch):
    """The overlaid plot: one tick per visit in words, short legend names, a title,
    a NaN run said in its legend entry."""
    import matplotlib.figure
    from mmseg_ext.core.evaluation import plot_stream
    seen = {}
    monkeypatch.setattr(matplotlib.figure.Figure, 'savefig',
                        lambda self, f, **kw: seen.update(fig=self))
    rows = [dict(after='init', **{'clear.mIoU': 50.0}),
            dict(after='clear', **{'clear.mIoU': 51.0}),
            dict(after='25mm', **{'25mm.mIoU': 40.0})]
    broken = [dict(after='init'), dict(after='clear', **{'clear.mIoU': float('nan')}),
              dict(after='25mm', **{'25mm.mIoU': float('nan')})]
    plot_stream(None, str(tmp_path / 'x.png'),
                runs={'a_dacs_s0': rows, 'a_tent_s0': broken})
    ax = seen['fig'].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ['clear', 'rain 25 mm/h']
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        'dacs', 'tent (no value)']
    assert ax.get_title() == '2 runs: held-out mIoU after each visit'
    plot_stream(rows, str(tmp_path / 'y.png'), title='run')
    ax = seen['fig'].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        'before the stream', 'clear', 'rain 25 mm/h']
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['clear', 'rain 25 mm/h']


def test_eval_hook_keeps_per_image_areas(tmp_path):
    import logging
    from types import SimpleNamespace
    runner = SimpleNamespace(work_dir=str(tmp_path), model=_Oracle(), iter=0,
                             domain_order=['clear'], logger=logging.getLogger('test'))
    OnlineEvalHook([_Set()], plot=False).before_run(runner)
    row = json.loads((tmp_path / 'results.json').read_text())[0]
    assert row['clear.per_image'] == osp.join('per_image', 'eval00_clear.npy')
    areas = np.load(tmp_path / row['clear.per_image'])
    assert areas.shape == (2, 4, 2) and areas[:, 1].tolist() == [[1.0, 3.0], [3.0, 1.0]]
    assert 'per_image' not in (tmp_path / 'results.csv').read_text()
