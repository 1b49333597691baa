"""Genetic search (online_src.apis.search, tools/search.py) on real study stores.

The objective is a cheap closed-form function of the trial's config so that the
tests measure the search machinery (sampling, sharing a study between worker
processes, Pareto front) and not training.
"""
import argparse
import json
import math
import shlex
import multiprocessing as mp
import os.path as osp

import optuna
import pytest
from mmcv import Config, DictAction

from online_src.apis.search import (best_trials, build_storage, check_search_cfg,
                                   report_search, run_search, trial_config)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _base_cfg(tmp_dir, **search_kw):
    search = dict(
        params={
            'optimizer.lr': dict(type='float', low=1e-5, high=1e-2, log=True),
            'uda.alpha': dict(type='float', low=0.9, high=0.9999),
        },
        objectives=[dict(metric='mIoU', direction='maximize'),
                    dict(metric='fps', direction='maximize')],
        sampler=dict(type='NSGAIISampler', population_size=8, seed=0),
        n_trials=3, timeout=None,
        storage=f'sqlite:///{tmp_dir}/study.db', study_name='t',
        work_dir=f'{tmp_dir}/search', show_progress_bar=False)
    search.update(search_kw)
    return Config(dict(optimizer=dict(type='AdamW', lr=6e-5),
                       uda=dict(type='DACS', alpha=0.999), search=search))


def cheap_objective(cfg):
    """mIoU peaks at lr=1e-3, fps falls with alpha: a true trade-off."""
    lr, alpha = cfg.optimizer.lr, cfg.uda.alpha
    miou = 60.0 - 10.0 * (math.log10(lr) + 3.0) ** 2 + 20.0 * alpha
    fps = 10.0 - 5.0 * alpha
    return dict(mIoU=miou, fps=fps, lr_seen=lr)


def _worker(cfg_dict, worker_id, storage):
    run_search(Config(cfg_dict), objective=cheap_objective, worker_id=worker_id,
               storage=storage)


def _two_workers(cfg, storage):
    ctx = mp.get_context('fork')
    procs = [ctx.Process(target=_worker, args=(cfg._cfg_dict.to_dict(), k, storage))
             for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    return optuna.load_study(study_name='t', storage=build_storage(storage))


def _assert_shared_study(study):
    trials = study.get_trials()
    assert len(trials) == 6
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert sorted(t.user_attrs['worker_id'] for t in trials) == [0, 0, 0, 1, 1, 1]
    params = {(t.params['optimizer.lr'], t.params['uda.alpha']) for t in trials}
    assert len(params) == 6
    for t in trials:  # values are the objective of the params the trial recorded
        ref = cheap_objective(Config(dict(optimizer=dict(lr=t.params['optimizer.lr']),
                                          uda=dict(alpha=t.params['uda.alpha']))))
        assert t.values == pytest.approx([ref['mIoU'], ref['fps']])
        assert t.user_attrs['lr_seen'] == t.params['optimizer.lr']


def test_two_workers_share_sqlite_study(tmp_path):
    cfg = _base_cfg(tmp_path)
    study = _two_workers(cfg, cfg.search.storage)
    _assert_shared_study(study)


def test_two_workers_share_postgresql_study(tmp_path, postgres_url):
    cfg = _base_cfg(tmp_path)
    study = _two_workers(cfg, postgres_url)
    _assert_shared_study(study)


def test_pareto_front_and_report(tmp_path, capsys):
    cfg = _base_cfg(tmp_path, n_trials=10,
                    sampler=dict(type='NSGAIISampler', population_size=4, seed=3))
    study = run_search(cfg, objective=cheap_objective)
    trials = study.get_trials()
    assert len(trials) == 10
    # brute-force non-dominated set equals the reported front
    vals = {t.number: t.values for t in trials}
    front = {n for n, v in vals.items()
             if not any(w[0] >= v[0] and w[1] >= v[1] and w != v
                        for w in vals.values())}
    rows = best_trials(study, ['mIoU', 'fps'])
    assert {r['number'] for r in rows} == front
    assert [r['mIoU'] for r in rows] == sorted((r['mIoU'] for r in rows), reverse=True)
    summary = report_search(study, cfg, cfg_options={'runner.frames_per_domain': 2},
                            config_file='configs/search/x.py')
    out = capsys.readouterr().out
    assert "Pareto front of study 't' (10 trials)" in out
    assert osp.getsize(summary['plot']) > 1000
    assert summary['n_trials'] == 10
    with open(osp.join(cfg.search.work_dir, 't', 'best.json')) as f:
        best = json.load(f)['best']
    assert {r['number'] for r in best} == front
    for r in best:  # the command names the config, the search's options, the values
        wd = osp.join(cfg.search.work_dir, 't', f'trial_{r["number"]:04d}')
        assert r['work_dir'] == wd
        words = shlex.split(r['command'])
        assert words[:5] == ['python', 'tools/train.py', 'configs/search/x.py',
                             '--work-dir', wd + '_rerun']
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        options = parser.parse_args(words[5:]).cfg_options
        assert options == {'runner.frames_per_domain': 2, **r['params']}
    assert trials[0].user_attrs['work_dir'] == osp.join(cfg.search.work_dir, 't',
                                                         'trial_0000')


def test_single_objective_reports_best(tmp_path, capsys):
    cfg = _base_cfg(tmp_path, n_trials=4,
                    objectives=[dict(metric='mIoU', direction='maximize')],
                    sampler=dict(type='RandomSampler', seed=1))
    study = run_search(cfg, objective=cheap_objective)
    summary = report_search(study, cfg)
    assert 'best trial' in capsys.readouterr().out
    assert summary['best'][0]['mIoU'] == pytest.approx(study.best_value)
    assert osp.getsize(summary['plot']) > 1000


def test_trial_config_merges_dotted_keys(tmp_path):
    cfg = _base_cfg(tmp_path)
    t = trial_config(cfg, {'optimizer.lr': 1e-3, 'uda.alpha': 0.9}, 'w')
    assert (t.optimizer.lr, t.uda.alpha, t.work_dir) == (1e-3, 0.9, 'w')
    assert cfg.optimizer.lr == 6e-5  # the base config is untouched


@pytest.mark.parametrize('change, match', [
    (dict(params={'uda.beta': dict(type='float', low=0, high=1)}),
     "'uda.beta' does not name a value"),
    (dict(params={'uda.alpha': dict(type='uniform', low=0, high=1)}),
     r"type is 'uniform'; expected one of \('float', 'int', 'categorical'\)"),
    (dict(params={'uda.alpha': dict(type='float', low=1, high=0.5)}),
     'low=1 must be below high=0.5'),
    (dict(params={'optimizer.lr': dict(type='float', low=0, high=1, log=True)}),
     'log=True and needs low > 0'),
    (dict(objectives=[dict(metric='mIoU', direction='up')]),
     "direction of 'mIoU' is 'up'"),
    (dict(sampler=dict(type='CmaEsSampler')), "sampler.type is 'CmaEsSampler'"),
    (dict(params={}), 'search.params is empty'),
    (dict(n_trial=3), r"search has unknown key\(s\) \['n_trial'\]"),
])
def test_bad_search_config(tmp_path, change, match):
    cfg = _base_cfg(tmp_path, **change)
    with pytest.raises((ValueError, KeyError), match=match):
        check_search_cfg(cfg)


def test_objective_missing_metric(tmp_path):
    cfg = _base_cfg(tmp_path, n_trials=1)
    with pytest.raises(KeyError, match=r"missing \['fps'\] required by search"):
        run_search(cfg, objective=lambda c: dict(mIoU=1.0))


def test_cli_report_only(tmp_path, capsys):
    """tools/search.py --report-only prints the front of an existing study."""
    import importlib.util
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    spec = importlib.util.spec_from_file_location('search_tool',
                                                  osp.join(repo, 'tools', 'search.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg = _base_cfg(tmp_path, n_trials=3)
    run_search(cfg, objective=cheap_objective)
    cfg_file = tmp_path / 'search_cfg.py'
    cfg.dump(str(cfg_file))
    summary = tool.main([str(cfg_file), '--report-only'])
    assert "Pareto front of study 't' (3 trials)" in capsys.readouterr().out
    assert summary['n_trials'] == 3
    assert osp.isfile(osp.join(cfg.search.work_dir, 't', 'best.json'))


def test_trials_are_online_runs(tmp_path):
    """The default objective runs the online experiment of each trial's config
    (the tiny stream of tests/test_online) and returns its summary metrics."""
    import importlib.util
    from mmseg_ext.core.evaluation import summarize_run
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    spec = importlib.util.spec_from_file_location(
        'online_tiny_fixtures', osp.join(repo, 'tests', 'test_online', 'conftest.py'))
    tiny = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny)  # registers the tiny datasets and method
    cfg = tiny.tiny_cfg(tmp_path / 'unused', frames_per_domain=2,
                        domain_order=['clear', '25mm'])
    cfg.online_evaluation = dict(eval_domains='stream')
    cfg.search = _base_cfg(tmp_path, n_trials=2).search
    cfg.search.params = {'optimizer.lr': dict(type='float', low=1e-3, high=1e-1, log=True)}
    cfg.search.objectives = [dict(metric='mIoU', direction='maximize'),
                             dict(metric='fps', direction='maximize')]
    cfg_file = str(tmp_path / 'search_cfg.py')
    cfg.dump(cfg_file)
    cfg = Config.fromfile(cfg_file)
    study = run_search(cfg)
    trials = study.get_trials()
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 2
    for t in trials:
        summary = summarize_run(t.user_attrs['work_dir'])
        assert t.values == pytest.approx([summary['mIoU'], summary['fps']])
        assert summary['frames'] == 4  # 2 visits x 2 frames
        saved = Config.fromfile(osp.join(t.user_attrs['work_dir'], 'config.py'))
        assert saved.optimizer.lr == pytest.approx(t.params['optimizer.lr'])
        with open(osp.join(t.user_attrs['work_dir'], 'results.json')) as f:
            init = json.load(f)[0]
        # the initial evaluation covers the two streamed domains, not all three
        assert init['after'] == 'init'
        assert sorted(k for k in init if k.endswith('.mIoU')) == ['25mm.mIoU',
                                                                  'clear.mIoU']
    # best.json's command reruns a Pareto trial to the same held-out numbers
    row = report_search(study, cfg)['best'][0]
    spec = importlib.util.spec_from_file_location('train_tool',
                                                  osp.join(repo, 'tools', 'train.py'))
    train_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_tool)
    words = shlex.split(row['command'])
    assert words[:3] == ['python', 'tools/train.py', cfg_file]
    train_tool.main(words[2:])
    rerun = summarize_run(row['work_dir'] + '_rerun')
    assert rerun['mIoU'] == pytest.approx(row['mIoU'])
    assert rerun['per_domain'] == pytest.approx(
        summarize_run(row['work_dir'])['per_domain'])


def test_shipped_search_config_is_valid():
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(repo, 'configs', 'search',
                                   'proccity_mit-b0_dacs_nsga2.py'))
    search = check_search_cfg(cfg)
    assert list(search.params) == ['optimizer.lr', 'uda.alpha', 'uda.pseudo_threshold',
                                   'uda.mix_loss_weight', 'runner.replay_buffer_size']
    assert [o['metric'] for o in search.objectives] == ['mIoU', 'adapt_fps']
    assert search.sampler.type == 'NSGAIISampler'
    assert cfg.online_evaluation.eval_domains == 'stream'  # trials: their stream's sets
    t = trial_config(cfg, {'uda.alpha': 0.95, 'runner.replay_buffer_size': 16}, 'w')
    assert (t.uda.alpha, t.runner.replay_buffer_size, t.uda.type) == (0.95, 16, 'DACS')


def test_trial_of_a_dead_worker_is_failed(tmp_path):
    """A RUNNING trial whose heartbeat stopped (its worker died) is marked failed
    by the next worker; the new worker's trials complete."""
    import time
    cfg = _base_cfg(tmp_path, n_trials=1, heartbeat_interval=1)
    storage = build_storage(cfg.search.storage, heartbeat_interval=1)
    study = optuna.create_study(storage=storage, study_name='t',
                                directions=['maximize', 'maximize'])
    dead = study.ask()
    storage.record_heartbeat(dead._trial_id)
    time.sleep(3.5)  # grace period: twice the interval, with margin for a loaded machine
    study = run_search(cfg, objective=cheap_objective)
    states = [t.state for t in study.get_trials()]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]
    with pytest.raises(ValueError, match='heartbeat_interval must be >= 1 s or None'):
        check_search_cfg(_base_cfg(tmp_path, heartbeat_interval=0))


def test_plot_keeps_matplotlib_style(tmp_path):
    import matplotlib as mpl
    before = dict(mpl.rcParams)
    cfg = _base_cfg(tmp_path, n_trials=2)
    report_search(run_search(cfg, objective=cheap_objective), cfg)
    assert dict(mpl.rcParams) == before  # optuna's ggplot style stays inside
