"""The benchmark goals (issue 16) on synthetic report data: numbers in, verdicts out."""
import importlib.util
import json
import os.path as osp

import pytest

from mmseg_ext.core.evaluation.goals import evaluate_goals, load_reports, parse_domain

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def _summary(per_domain, init=None, half_width=1.0, visits=None):
    """A run summary as summarize_run writes it, intervals value +- half_width."""
    def ci(values):
        return {k: [v - half_width, v + half_width] for k, v in values.items()}

    visits = visits or [[d, v] for d, v in per_domain.items()]
    mean = sum(v for _, v in visits) / len(visits)
    return dict(per_domain=per_domain, init_per_domain=init or {}, per_visit=visits,
                mIoU=mean, ci=dict(per_domain=ci(per_domain),
                                   init_per_domain=ci(init or {}),
                                   mIoU=[mean - half_width, mean + half_width]))


INIT = {'clear': 70.0, 'fog5': 50.0, 'night5': 40.0, 'rain5': 54.0, 'snow5': 45.0}
ORDER = ['fog5', 'night5', 'rain5', 'snow5']


def _acdc(adabn_shift=-2.0, tent_rounds=(50.0, 47.0, 44.0), cotta_shift=1.0, oracle=8.0):
    src = {d: INIT[d] for d in ORDER}

    def shifted(x):
        return {d: v + x for d, v in src.items()}

    tent_visits = [[d, r] for r in tent_rounds for d in ORDER]
    return dict(source_only=_summary(src, INIT), adabn=_summary(shifted(adabn_shift), INIT),
                tent=_summary({d: tent_rounds[-1] for d in ORDER}, INIT, visits=tent_visits),
                cotta=_summary(shifted(cotta_shift), INIT),
                oracle=_summary(shifted(adabn_shift + oracle), INIT))


def test_domain_names_give_condition_and_level():
    assert parse_domain('clear') is None
    assert parse_domain('night5') == ('night', 5.0)
    assert parse_domain('200mm') == ('rain_mmh', 200.0)
    assert parse_domain('fog75m')[0] == 'fog_m'
    assert parse_domain('fog75m')[1] > parse_domain('fog750m')[1]  # less visibility


def test_all_goals_met_and_published_signs_hold():
    goals = evaluate_goals(dict(acdc=_acdc()))
    assert [g['number'] for g in goals] == [1, 2, 3, 4]
    assert [g['met'] for g in goals] == [True, True, True, True]
    assert 'night (night5, acdc): clear 70.00 - night5 40.00 = 30.00 mIoU lost [ok]' \
        in goals[0]['lines']
    assert 'fog (fog5, acdc): oracle 56.00 - adabn 48.00 = 8.00 mIoU [ok]' in goals[1]['lines']
    assert goals[3]['lines'][2].startswith('tent over rounds: published decays to 47.8')
    assert 'round means 50.00, 47.00, 44.00 -> holds' in goals[3]['lines'][2]


def test_verdicts_when_goals_fail():
    runs = _acdc(adabn_shift=3.0, tent_rounds=(44.0, 47.0, 50.0), cotta_shift=-1.0,
                 oracle=4.0)
    runs['source_only']['init_per_domain'] = dict(INIT, rain5=60.0)  # rain loses 10
    goals = evaluate_goals(dict(acdc=runs))
    assert goals[0]['met'] is False
    assert 'rain (rain5, acdc): clear 70.00 - rain5 60.00 = 10.00 mIoU lost [below]' \
        in goals[0]['lines']
    assert goals[1]['met'] is False and goals[1]['lines'][-1] == \
        '0 condition(s) with >= 5'
    # every method within 1 of another: still a separated pair (oracle vs cotta: 8 apart)
    assert goals[2]['met'] is True
    assert goals[3]['met'] is False
    assert all('does NOT hold' in line for line in goals[3]['lines'])


def test_overlapping_intervals_fail_the_separation_goal():
    runs = {n: _summary({'fog5': 50.0 + 0.5 * i}, INIT, half_width=2.0)
            for i, n in enumerate(['source_only', 'adabn', 'oracle'])}
    goals = evaluate_goals(dict(acdc=runs))
    assert goals[2]['met'] is False
    assert goals[2]['lines'] == ['fog (fog5, acdc): oracle 51.00 [49.00, 53.00] vs '
                                 'source_only 50.00 [48.00, 52.00]: gap between '
                                 'intervals -3.00 [overlap]']
    assert goals[3]['met'] is False  # tent/cotta not run, adabn vs source: sign differs


def test_goal_script_reads_benchmark_dirs(tmp_path, capsys):
    for proto, runs in (('acdc', _acdc()), ('storm', dict(
            source_only=_summary({'200mm': 40.0}, {'clear': 70.0, '200mm': 40.0}),
            adabn=_summary({'200mm': 44.0}), oracle=_summary({'200mm': 52.0})))):
        (tmp_path / proto).mkdir()
        (tmp_path / proto / 'report.json').write_text(json.dumps(runs))
    spec = importlib.util.spec_from_file_location(
        'proccity_goals', osp.join(ROOT, 'bench', 'proccity_goals.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    goals = module.main([str(tmp_path), '--json', str(tmp_path / 'goals.json')])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ('Goal 1: source-only loses >= 15 mIoU at the hardest level of every '
                      'condition: MET')
    assert '  rain_mmh (200mm, storm): clear 70.00 - 200mm 40.00 = 30.00 mIoU lost [ok]' \
        in out
    assert '  rain_mmh (200mm, storm): oracle 52.00 - adabn 44.00 = 8.00 mIoU [ok]' in out
    assert json.loads((tmp_path / 'goals.json').read_text())[3]['met'] is True
    assert list(load_reports([str(tmp_path)])) == ['acdc', 'storm']
    # a benchmark's root: its protocols in the suite's order (benchmark.json)
    (tmp_path / 'benchmark.json').write_text(json.dumps(
        dict(settings=dict(protocols=dict(storm='s.py', acdc='a.py')))))
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'report.json').write_text(json.dumps(dict(
        source_only=_summary({'200mm': 40.0}))))
    assert list(load_reports([str(tmp_path)])) == ['storm', 'acdc', 'other']
    with pytest.raises(FileNotFoundError, match='neither a report.json nor a folder'):
        load_reports([str(tmp_path / 'missing')])
