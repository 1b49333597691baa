"""What a sweep writes: every experiment id's generated configs load back to exactly
the resolved configs, stream held-out scenes, name their source model, and train
(through run_experiments.py, tools/train.py and the sbatch command line)."""
import csv
import json
import math
import os
import os.path as osp
import shlex
import sys

import pytest
from mmcv.utils import Config

from mmseg_ext.apis.config import config_diff
from online_src.apis.sweep import generate_runs, resolve_config, train_configs

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

import experiments  # noqa: E402
import experiments_custom  # noqa: E402
import run_experiments  # noqa: E402

IDS = [(experiments, i) for i in sorted(experiments.EXPERIMENTS)] + \
      [(experiments_custom, i) for i in sorted(experiments_custom.EXPERIMENTS)]
# Keys a sweep adds to a config (where it runs and what it is called).
RUN_KEYS = ('name', 'exp', 'custom', 'git_rev', 'work_dir')


def _generate(module, exp_id, tmp_path, **kw):
    return generate_runs(module.generate_experiment_cfgs(exp_id), exp_id,
                         out_root=str(tmp_path / 'generated'),
                         work_root=str(tmp_path / 'wd'), **kw)


def test_every_id_loads_back_exactly(tmp_path):
    for module, exp_id in IDS:
        runs = _generate(module, exp_id, tmp_path)
        assert len(runs) == len(module.generate_experiment_cfgs(exp_id)) > 0
        for run in runs:
            assert run['cfg_file'].endswith('.py')
            loaded = Config.fromfile(run['cfg_file'])
            assert config_diff(run['cfg'], loaded) == [], (exp_id, run['name'])
            # the failure JSON had: mmseg's Resize asserts img_scale is a tuple
            resize = [s for s in loaded.data.train[1].pipeline if s.type == 'Resize']
            assert type(resize[0].img_scale) is tuple, (exp_id, run['name'])


def _without_run_keys(cfg):
    d = cfg._cfg_dict.to_dict()
    return {k: v for k, v in d.items() if k not in RUN_KEYS}


def test_experiment_100_is_the_demo(tmp_path):
    demo = Config.fromfile(osp.join(REPO, 'configs/online/demo.py')).demo
    runs = _generate(experiments_custom, 100, tmp_path, custom=True)
    assert [r['name'].split('_')[3] for r in runs] == [m.replace('_', '-')
                                                       for m in demo.runs]
    for run, (method, path) in zip(runs, demo.runs.items()):
        ref = Config.fromfile(osp.join(REPO, path))
        assert config_diff(_without_run_keys(ref),
                           _without_run_keys(Config.fromfile(run['cfg_file']))) == [], method


def _family_split(ds):
    """(scene family, split) of a dataset entry: rainy/foggy Cityscapes are
    Cityscapes scenes."""
    ds = ds.get('dataset', ds)
    family = {'ProcCityDataset': 'proccity', 'ACDCDataset': 'acdc'}.get(ds['type'],
                                                                        'cityscapes')
    split = ds.get('subset') or ds['img_dir'].split('/')[1]
    return family, split


def test_every_sweep_streams_held_out_scenes():
    for module, exp_id in IDS:
        for exp_cfg in module.generate_experiment_cfgs(exp_id):
            exp_cfg = {k: v for k, v in exp_cfg.items() if k != 'name_parts'}
            train = resolve_config(exp_cfg).data.train
            source = _family_split(train[0])
            assert source[1] == 'train'
            streams = {_family_split(t) for t in train[1:]}
            assert source not in streams, (exp_id, streams)
            if source[0] == 'proccity':
                assert streams == {('proccity', 'test')}


@pytest.mark.parametrize('exp_id,models', [(5, ['mit-b0']), (6, ['mit-b0']),
                                            (7, ['mit-b0', 'mit-b1', 'mit-b1'])])
def test_cityscapes_sweeps_stop_before_work_without_their_source_model(
        exp_id, models, tmp_path, monkeypatch):
    import online_src.apis.online as online

    def no_work(*args, **kwargs):
        raise AssertionError('datasets were built before the checkpoint check')

    monkeypatch.setattr(online, '_build_datasets', no_work)
    monkeypatch.chdir(tmp_path)  # no pretrained/ here
    runs = _generate(experiments, exp_id, tmp_path)
    ckpts = [f'pretrained/segformer_{m}_cityscapes.pth' for m in models]
    assert sorted({r['cfg']['load_from'] for r in runs}) == sorted(set(ckpts))
    # the sweep stops at the first run's checkpoint, tools/train.py at its config's
    for run, attempt in ((runs[0], lambda: train_configs(runs)),
                         (runs[-1], lambda: _train_cli([runs[-1]['cfg_file']]))):
        with pytest.raises(FileNotFoundError) as err:
            attempt()
        msg, ckpt = str(err.value), run['cfg']['load_from']
        model = ckpt.split('_')[1]
        assert f'source checkpoint {ckpt} does not exist' in msg
        assert f'configs/source/segformer_{model}_cityscapes.py' in msg
        assert osp.isfile(osp.join(REPO, f'configs/source/segformer_{model}_cityscapes.py'))
        assert f'tools/convert_weights.py segformer.b{model[-1]}.1024x1024.city.160k.pth' \
            in msg


def _train_cli(argv):
    sys.path.insert(0, osp.join(REPO, 'tools'))
    import train as train_tool
    return train_tool.main(argv)


def test_config_option_derives_the_work_dir_as_tools_train(tmp_path, monkeypatch):
    import online_src.apis.online as online
    seen = []
    monkeypatch.setattr(online, 'run_online',
                        lambda cfg, **kw: seen.append(cfg.work_dir) or cfg.work_dir)
    cfg_file = tmp_path / 'my_dacs.py'
    cfg_file.write_text(f"_base_ = ['{REPO}/configs/online/proccity_mit-b0_dacs.py']\n"
                        f"load_from = None\n")
    out = run_experiments.main(['--config', str(cfg_file),
                                '--work-root', str(tmp_path / 'wd')])
    assert out == seen == [str(tmp_path / 'wd' / 'my_dacs')]


# ---- training every generated config of the ProcCity ids for a tiny stream ----
TINY = ['runner.frames_per_domain=2', 'online_evaluation.max_images=1',
        'online_evaluation.eval_domains=current', 'checkpoint_config.interval=1000']
# the first two domains of each id's stream: the storm's, or (experiment 100, the
# demo's configs) the ACDC-like protocol's
STREAMS = {100: ['fog75m', 'night5']}
STORM = ['clear', '25mm']


def _sweep_argv(exp_id, tmp_path, data_root, checkpoint):
    order = STREAMS.get(exp_id, STORM)
    return ['--exp', str(exp_id), '--custom', str(int(exp_id >= 100)),
            '--work-root', str(tmp_path / 'wd'), '--cfg-options',
            f'data_root={data_root}', f'load_from={checkpoint}',
            f'runner.domain_order=[{",".join(order)}]'] + TINY


def _generated_to(tmp_path, monkeypatch):
    original = generate_runs
    monkeypatch.setattr(run_experiments, 'generate_runs', lambda cfgs, exp, **kw: original(
        cfgs, exp, out_root=str(tmp_path / 'generated'), **kw))


def _check_run(work_dir, order=STORM):
    """Asserts a finished 2-domain, 2-frames-per-visit run; returns its summary."""
    with open(osp.join(work_dir, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [(r['after'], int(r['frames'])) for r in rows] == [
        ('init', 0), (order[0], 2), (order[1], 4)]
    with open(osp.join(work_dir, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['frames'] == summary['timing']['frames'] == 4
    assert summary['domain_order'] == list(summary['stream_accuracy']) == order
    values = [float(rows[0][f'{order[0]}.mIoU']), float(rows[0][f'{order[1]}.mIoU']),
              *(float(r[f'{r["after"]}.mIoU']) for r in rows[1:]),
              *(float(r['stream.mIoU']) for r in rows[1:]),
              *(a['mIoU'] for a in summary['stream_accuracy'].values())]
    assert all(math.isfinite(v) and 0 <= v <= 100 for v in values), values
    return summary


@pytest.mark.parametrize('exp_id', [1, 2, 3, 4, 100, 101, 102])
def test_generated_configs_train(exp_id, tmp_path, monkeypatch, tiny_proccity,
                                 tiny_source_checkpoint):
    _generated_to(tmp_path, monkeypatch)
    results = run_experiments.main(_sweep_argv(exp_id, tmp_path, tiny_proccity,
                                               tiny_source_checkpoint))
    module = experiments_custom if exp_id >= 100 else experiments
    assert len(results) == len(module.generate_experiment_cfgs(exp_id))
    work_dirs = sorted(d.path for d in os.scandir(tmp_path / 'wd' / str(exp_id)) if d.is_dir())
    assert len(work_dirs) == len(results)
    for work_dir in work_dirs:
        summary = _check_run(work_dir, STREAMS.get(exp_id, STORM))
        adapted = summary['timing']['adapted_frames']
        assert adapted == (0 if '_source_' in work_dir or '_source-only_' in work_dir
                           else 4) or ('budget' in work_dir or 'hamlet' in work_dir)
    with open(tmp_path / 'wd' / str(exp_id) / 'report.md') as f:
        report = f.read()
    assert all(f'| {osp.basename(w)} |' in report for w in work_dirs)


def test_sbatch_command_line_trains(tmp_path, monkeypatch, tiny_proccity,
                                    tiny_source_checkpoint):
    _generated_to(tmp_path, monkeypatch)
    files = run_experiments.main(_sweep_argv(1, tmp_path, tiny_proccity,
                                             tiny_source_checkpoint) +
                                 ['--launcher', 'slurm', '--partition', 'gpu',
                                  '--time', '1:00:00'])
    assert len(files) == 7
    with open(files[3]) as f:  # DACS
        srun = [line for line in f if line.startswith('srun ')][0]
    cmd = shlex.split(srun)[1:]
    cfg_file = cmd[3]
    assert cmd[:3] == [sys.executable, '-u', 'tools/train.py'] and cmd[4:] == [
        '--launcher', 'none']
    assert cfg_file.startswith(str(tmp_path / 'generated' / '1')) and '_dacs_' in cfg_file
    _train_cli(cmd[3:])
    summary = _check_run(Config.fromfile(cfg_file).work_dir)
    assert summary['timing']['adapted_frames'] == 4
