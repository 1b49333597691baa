"""Experiment system: ids -> configs, run names, generated JSON, the CLI."""
import json
import os.path as osp
import sys
import time

import pytest
from mmcv.utils import Config

from online_src.apis.sweep import (NAME_RE, generate_runs, resolve_config,
                                   resolved_name_parts,
                                   run_name)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

import experiments  # noqa: E402
import experiments_custom  # noqa: E402
import run_experiments  # noqa: E402

PARTS = dict(src='proccity', tgt='storm', uda='dacs', rcs='rcs', cpl='nocpl',
             arch='segformer', backbone='mitb0', schedule='online')
# What an experiment gives: the labels (rcs and cpl come from the resolved config).
LABELS = {k: v for k, v in PARTS.items() if k not in ('rcs', 'cpl')}


def test_run_name_format():
    when = time.strptime('2026-11-25 09:07', '%Y-%m-%d %H:%M')
    name = run_name(PARTS, 3, when, uid='a1b2c')
    assert name == '261125_0907_proccity2storm_dacs_rcs_nocpl_segformer_mitb0_online_s3_a1b2c'
    assert NAME_RE.match(name)
    assert NAME_RE.match(run_name(dict(PARTS, uda='DACS_Tent'), 0))
    with pytest.raises(KeyError, match=r"missing \['cpl'\]"):
        run_name({k: v for k, v in PARTS.items() if k != 'cpl'}, 0)


def test_experiment_ids_expand_to_documented_crosses():
    cfgs = experiments.generate_experiment_cfgs(2)
    assert [c['name_parts']['uda'] for c in cfgs] == [
        'dacs', 'dacs-budget', 'dacs-mad', 'dacs-budget-mad']
    assert cfgs[2]['model'] == dict(type='ModularEncoderDecoder')
    assert cfgs[0]['_base_'][-1] == 'configs/_base_/online/online_runner.py'
    assert all(osp.isfile(osp.join(REPO, b)) for c in cfgs for b in c['_base_']
               if 'datasets' not in b)
    seeds = experiments.generate_experiment_cfgs(3)
    assert sorted({c['seed'] for c in seeds}) == [0, 1, 2] and len(seeds) == 9
    src = experiments.generate_experiment_cfgs(1)[0]
    assert src['runner']['adapt'] is False
    custom = experiments_custom.generate_experiment_cfgs(101)
    assert [c['runner']['frames_per_domain'] for c in custom] == [40] * 3
    # online AdaBN adapts (its step is the statistics forward); DACS+AdaBN keeps the
    # source pass out of the statistics
    adabn, dacs_adabn = (resolve_config(experiments.experiment_cfg(method=m), REPO)
                         for m in ('adabn', 'dacs_adabn'))
    assert adabn['runner']['adapt'] is True and adabn['uda']['type'] == 'SourceOnly'
    assert adabn['uda']['norm_stats']['target_pass'] is True
    assert (dacs_adabn['uda']['type'], dacs_adabn['uda']['norm_stats']['target_pass'],
            dacs_adabn['uda']['norm_stats']['source_pass']) == ('DACS', True, False)
    demo = experiments_custom.generate_experiment_cfgs(100)
    assert [c['_base_'] for c in demo][0] == [
        'configs/online/proccity_mit-b0_source-only.py']
    with pytest.raises(KeyError, match='unknown experiment id 99'):
        experiments.generate_experiment_cfgs(99)
    with pytest.raises(KeyError, match="unknown method 'dann'"):
        experiments.experiment_cfg(method='dann')


def _fake_root(tmp_path):
    base = tmp_path / 'configs' / '_base_'
    base.mkdir(parents=True)
    (base / 'a.py').write_text("runner = dict(type='OnlineRunner', frames_per_domain=None)\n"
                               "seed = 0\n")
    (base / 'b.py').write_text("optimizer = dict(type='SGD', lr=0.1)\n")
    return str(tmp_path)


def test_generate_runs_writes_resolved_python_config(tmp_path):
    root = _fake_root(tmp_path)
    exp_cfgs = [dict(_base_=['configs/_base_/a.py', 'configs/_base_/b.py'], seed=2,
                     runner=dict(frames_per_domain=5), name_parts=LABELS)]
    runs = generate_runs(exp_cfgs, 7, root=root, work_root='wd', custom=True)
    assert len(runs) == 1 and NAME_RE.match(runs[0]['name'])
    # no source dataset, no uda section: neither RCS nor the pseudo-label crop
    assert '_proccity2storm_dacs_norcs_nocpl_segformer_' in runs[0]['name']
    assert runs[0]['cfg_file'] == osp.join(root, 'configs', 'generated', '7',
                                           runs[0]['name'] + '.py')
    cfg = Config.fromfile(runs[0]['cfg_file'])
    assert cfg['runner'] == dict(type='OnlineRunner', frames_per_domain=5)
    assert cfg['optimizer']['lr'] == 0.1 and cfg['seed'] == 2
    assert cfg['custom'] is True and cfg['exp'] == '7' and 'git_rev' in cfg
    assert cfg['work_dir'] == osp.join('wd', '7', runs[0]['name'])
    with pytest.raises(FileNotFoundError, match="missing _base_ file"):
        resolve_config(dict(_base_=['configs/_base_/nope.py']), root)


@pytest.mark.parametrize('method,cfg_options,parts', [
    ('dacs', None, dict(rcs='rcs', cpl='nocpl')),
    ('dacs', {'data.train.0.rare_class_sampling': None}, dict(rcs='norcs', cpl='nocpl')),
    ('dacs_cpl', None, dict(rcs='rcs', cpl='cpl')),
    ('dacs_cpl', {'uda.pseudo_weight_ignore_top': 0, 'uda.pseudo_weight_ignore_bottom': 0},
     dict(rcs='rcs', cpl='nocpl')),
    ('tent', None, dict(rcs='rcs', cpl='nocpl')),
])
def test_run_name_parts_come_from_the_resolved_config(tmp_path, method, cfg_options, parts):
    exp_cfg = experiments.experiment_cfg(method=method)
    cfg = resolve_config({k: v for k, v in exp_cfg.items() if k != 'name_parts'}, REPO,
                         cfg_options)
    assert resolved_name_parts(cfg) == parts
    run, = generate_runs([exp_cfg], 9, out_root=str(tmp_path), root=REPO,
                         work_root=str(tmp_path / 'wd'), cfg_options=cfg_options)
    assert run['name'].split('_')[4:6] == [parts['rcs'], parts['cpl']]


def test_name_parts_a_resolved_key_decides_are_not_given(tmp_path):
    root = _fake_root(tmp_path)
    with pytest.raises(ValueError, match=r"name_parts \['rcs'\] are read from the resolved"):
        generate_runs([dict(_base_=['configs/_base_/a.py'], name_parts=dict(LABELS, rcs='rcs'))],
                      7, root=root)
    source = dict(type='SourceDataset', dataset=dict(type='X'), rare_class_sampling=None)
    assert resolved_name_parts(dict(data=dict(train=source))) == dict(rcs='norcs', cpl='nocpl')
    assert resolved_name_parts(dict(data=dict(train=[dict(source, rare_class_sampling=dict(
        class_temp=0.01))]), uda=dict(pseudo_weight_ignore_bottom=120))) == dict(
            rcs='rcs', cpl='cpl')


def test_cli_dry_run_writes_configs_and_records_custom(tmp_path, monkeypatch):
    root = _fake_root(tmp_path)
    fake = [dict(_base_=['configs/_base_/a.py'], name_parts=LABELS)]
    monkeypatch.setattr(experiments_custom, 'generate_experiment_cfgs',
                        lambda exp_id: fake)
    import online_src.apis.sweep as sweep
    original = sweep.generate_runs
    monkeypatch.setattr(run_experiments, 'generate_runs',
                        lambda cfgs, exp, **kw: original(cfgs, exp, root=root, **kw))
    runs = run_experiments.main(['--exp', '100', '--custom', '1', '--dry-run',
                                 '--work-root', str(tmp_path / 'wd')])
    assert Config.fromfile(runs[0]['cfg_file'])['custom'] is True
    with pytest.raises(SystemExit):
        run_experiments.main(['--exp', '1', '--config', 'x.py'])
    with pytest.raises(ValueError, match='--gpus 2: an online run streams in one process'):
        run_experiments.main(['--exp', '1', '--launcher', 'slurm', '--partition', 'gpu',
                              '--gpus', '2', '--time', '1:00:00'])


def test_report_runs_compares_finished_runs_only(tmp_path):
    from online_src.apis.sweep import report_runs
    runs = []
    for name, miou in (('a', 40.0), ('b', 50.0), ('c', None)):
        work = tmp_path / name
        work.mkdir()
        if miou is not None:
            (work / 'results.json').write_text(json.dumps([
                dict(eval=0, after='init', visit=-1, **{'clear.mIoU': 30.0}),
                dict(eval=1, after='25mm', visit=0, **{'25mm.mIoU': miou})]))
        runs.append(dict(name=name, work_dir=str(work), cfg_file=''))
    text = report_runs(runs, str(tmp_path / 'report'))
    assert '| a | 40.00 |' in text and '| b | 50.00 |' in text and '| c |' not in text
    assert osp.isfile(tmp_path / 'report' / 'miou_stream.png')
    assert report_runs(runs[2:], str(tmp_path / 'none')) is None
