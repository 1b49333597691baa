"""The demo's goal checks and data cache test (the stages run in `make demo`)."""
import json
import os
from collections import OrderedDict

import pytest

import os.path as osp

from mmcv import Config

from mmseg_ext.datasets.synth.writers import RENDER_VERSION, WEATHER_VERSION
from online_src.apis.demo import (WEATHER_STAMP, _method_config, data_is_cached,
                                  expected_frames, run_benchmark)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ONLINE = osp.join(REPO, 'configs', '_base_', 'online')
BASELINES = ('source_only', 'adabn', 'oracle')


def _suite(name):
    return Config.fromfile(osp.join(REPO, 'configs', 'online', f'{name}.py'))[name]


def _in_repo(runs):
    return {k: osp.join(REPO, v) for k, v in runs.items()}


def test_data_cache_needs_meta_size_and_weather_stamp(tmp_path):
    data = dict(root=str(tmp_path), splits=dict(train=2, test=1), size=(128, 256),
                weather=dict(rain=(25,), night=(5,)), weather_splits=('test',), seed=0)
    assert not data_is_cached(data)
    (tmp_path / 'sample_class_stats.json').write_text('[]')
    clear = dict(size=[128, 256], seed=0, splits=dict(train=2, test=1))
    (tmp_path / 'proccity.json').write_text(json.dumps(clear))  # no renderer version
    (tmp_path / WEATHER_STAMP).write_text(json.dumps(dict(
        version=WEATHER_VERSION, test=dict(rain=[25.0], night=[5.0]))))
    assert not data_is_cached(data)  # clear rendered by older scene renderers
    (tmp_path / 'proccity.json').write_text(json.dumps(dict(clear,
                                                            version=RENDER_VERSION)))
    assert data_is_cached(data)
    (tmp_path / WEATHER_STAMP).unlink()
    assert not data_is_cached(data)  # no weather rendered yet
    (tmp_path / WEATHER_STAMP).write_text(json.dumps(dict(
        version=WEATHER_VERSION, test=dict(rain=[25.0]))))
    assert not data_is_cached(data)  # night missing
    levels = dict(test=dict(rain=[25.0, 50.0], night=[5.0]))
    (tmp_path / WEATHER_STAMP).write_text(json.dumps(dict(levels, version=WEATHER_VERSION)))
    assert data_is_cached(data)
    (tmp_path / WEATHER_STAMP).write_text(json.dumps(levels))  # older weather renderers
    assert not data_is_cached(data)
    (tmp_path / WEATHER_STAMP).write_text(json.dumps(dict(levels, version=WEATHER_VERSION)))
    assert not data_is_cached(dict(data, size=(256, 512)))
    assert not data_is_cached(dict(data, splits=dict(train=3)))
    assert not data_is_cached(dict(data, weather_splits=('val', 'test')))


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


def test_source_cache_follows_the_training_renders(tmp_path):
    import torch
    from mmcv.utils import Config

    from online_src.apis.demo import source_is_cached
    from mmseg_ext.apis.config import config_hash
    from mmseg_ext.core.checkpoint import atomic_save
    root = tmp_path / 'proccity'
    root.mkdir()
    cfg_file = tmp_path / 'source.py'
    cfg_file.write_text(f"data = dict(train=dict(type='ProcCityDataset', "
                        f"data_root={str(root)!r}))\n")
    clear = dict(seed=0, size=[128, 256], splits=dict(train=500, val=40, test=60),
                 style='source', version=RENDER_VERSION, class_pixels={'0': 1})
    (root / 'proccity.json').write_text(json.dumps(clear))
    trained_on = dict(seed=0, size=[128, 256], splits=dict(train=500), style='source',
                      version=RENDER_VERSION)
    ckpt = tmp_path / 'source.pth'
    source = dict(config=str(cfg_file), checkpoint=str(ckpt))
    meta = dict(iters=10, config_fingerprint=config_hash(Config.fromfile(str(cfg_file))))
    atomic_save(dict(state_dict={}, meta=meta), str(ckpt))
    assert not source_is_cached(source)  # weights from before the render record
    atomic_save(dict(state_dict={}, meta=dict(meta, train_data=trained_on)), str(ckpt))
    assert source_is_cached(source)
    # more held-out and stream images (the full benchmark after the demo): kept
    (root / 'proccity.json').write_text(json.dumps(
        dict(clear, splits=dict(train=500, val=100, test=100), class_pixels={'0': 2})))
    assert source_is_cached(source)
    for changed in (dict(version=RENDER_VERSION + 1), dict(size=[256, 512]),
                    dict(splits=dict(train=700))):  # other training images: train again
        (root / 'proccity.json').write_text(json.dumps(dict(clear, **changed)))
        assert not source_is_cached(source), changed


@pytest.mark.parametrize('protocol,order,rounds', [
    ('proccity_storm_full.py', ['clear', '25mm', '50mm', '75mm', '100mm', '200mm', '100mm',
                                '75mm', '50mm', '25mm', 'clear'], 1),
    ('proccity_acdc.py', ['fog75m', 'night5', '200mm', 'snow5'], 3),
    ('proccity_conditions.py', ['wet5', 'lensdrops5', 'motionblur5', 'target_city'], 1)])
def test_full_protocols(protocol, order, rounds):
    cfg = _method_config(osp.join(REPO, 'configs', 'online',
                                  'proccity_mit-b0_dacs.py'), osp.join(ONLINE, protocol))
    assert cfg.runner.domain_order == order * rounds
    assert cfg.runner.frames_per_domain >= 100
    assert cfg.runner.replay_buffer_size == 64  # the method's runner keys stay
    assert cfg.online_evaluation.max_images is None  # every held-out image
    stream = {d.name: d for d in cfg.data.train[1:]}
    assert set(order) <= set(stream) and {d.subset for d in stream.values()} == {'test'}
    val = [d.name for d in cfg.data.val]
    assert val[0] == 'clear' and set(order) <= set(val)
    assert {d.subset for d in cfg.data.val} == {'val'}


def test_benchmark_suite_sizes():
    bench = _suite('benchmark')
    assert bench.data.splits.val >= 100 and bench.data.splits.test >= 100
    assert tuple(bench.baselines) == BASELINES and set(BASELINES) <= set(bench.runs)
    assert list(bench.runs) == ['source_only', 'adabn', 'oracle', 'tent', 'dacs', 'cotta']
    two = _in_repo(dict(source_only=bench.runs.source_only, cotta=bench.runs.cotta))
    assert expected_frames(two, {k: osp.join(REPO, v) for k, v in
                                 bench.protocols.items()}) == 2 * 100 * (11 + 12 + 4)
    oracle = Config.fromfile(osp.join(REPO, bench.runs.oracle))
    assert oracle.uda.type == 'DACS' and oracle.uda.oracle is True
    assert oracle.uda.target_only is True  # whole labelled frames, no ClassMix
    # the target city is rendered into its own root, which the conditions protocol reads
    cfg = _method_config(osp.join(REPO, bench.runs.dacs),
                         osp.join(REPO, bench.protocols.conditions))
    city = [d for d in cfg.data.train[1:] + cfg.data.val if d.name == 'target_city']
    assert len(city) == 2 and cfg.proccity_target_root == bench.data.target_city.root
    assert {d.data_root for d in city} == {bench.data.target_city.root}


def _fake_run(seen, seconds=75):
    """A stand-in for run_online that leaves what a finished run leaves: status.json
    (started -> finished ``seconds`` later), summary.json and latest.pth with the
    config's hash."""
    import torch

    from mmseg_ext.apis.config import config_hash

    def run(cfg, overwrite):
        assert overwrite  # every run of a suite replaces what its work dir held
        seen.append(cfg)
        os.makedirs(cfg.work_dir, exist_ok=True)
        with open(osp.join(cfg.work_dir, 'status.json'), 'w') as f:
            json.dump(dict(status='finished', started='2026-11-29T10:00:00',
                           finished=f'2026-11-29T10:{seconds // 60:02d}:{seconds % 60:02d}'),
                      f)
        with open(osp.join(cfg.work_dir, 'summary.json'), 'w') as f:
            json.dump({}, f)
        torch.save(dict(meta=dict(config_hash=config_hash(cfg)), state_dict={}),
                   osp.join(cfg.work_dir, 'latest.pth'))
    return run


def test_run_methods_moves_the_main_and_the_target_city_roots(tmp_path, monkeypatch):
    import online_src.apis.online as online
    from online_src.apis.demo import run_methods
    seen = []
    monkeypatch.setattr(online, 'run_online', _fake_run(seen))
    bench = _suite('benchmark')
    run_methods(_in_repo(dict(dacs=bench.runs.dacs)), 'src.pth', str(tmp_path),
                osp.join(REPO, bench.protocols.conditions), data_root='/d/main',
                target_root='/d/city')
    roots = {d.name: d.data_root for d in seen[0].data.val}
    assert roots['wet5'] == roots['clear'] == '/d/main' and roots['target_city'] == '/d/city'
    assert seen[0].data.train[0].dataset.data_root == '/d/main'  # the replayed source


def test_run_methods_resume_keeps_only_finished_runs_of_the_same_config(tmp_path,
                                                                         monkeypatch):
    import online_src.apis.online as online
    from online_src.apis.demo import run_methods
    seen = []
    monkeypatch.setattr(online, 'run_online', _fake_run(seen, seconds=75))
    bench = _suite('benchmark')
    runs = _in_repo(dict(source_only=bench.runs.source_only, adabn=bench.runs.adabn))
    proto = osp.join(REPO, bench.protocols.acdc)

    def call(resume, protocol=proto):
        return run_methods(runs, 'src.pth', str(tmp_path), protocol, resume=resume)

    first = call(resume=True)  # nothing there yet: both run
    assert [c.work_dir for c in seen] == [str(tmp_path / 'source_only'),
                                          str(tmp_path / 'adabn')]
    assert {k: (v['seconds'], v['reused']) for k, v in first.items()} == \
        dict(source_only=(75.0, False), adabn=(75.0, False))
    kept = call(resume=True)  # both finished with the same configs: kept
    assert len(seen) == 2 and all(v['reused'] and v['seconds'] == 75.0
                                  for v in kept.values())
    # a killed run (status 'running') runs again; the finished one is kept
    status = tmp_path / 'adabn' / 'status.json'
    status.write_text(status.read_text().replace('finished"', 'running"', 1))
    again = call(resume=True)
    assert [c.work_dir for c in seen[2:]] == [str(tmp_path / 'adabn')]
    assert again['source_only']['reused'] and not again['adabn']['reused']
    # another protocol is another config (its hash differs): both run again
    call(resume=True, protocol=osp.join(REPO, bench.protocols.conditions))
    assert len(seen) == 5
    call(resume=False)  # resume off: every run again
    assert len(seen) == 7


def test_resume_runs_again_what_read_data_rendered_otherwise(tmp_path, monkeypatch):
    import online_src.apis.online as online
    from online_src.apis.demo import DATA_STAMP_FILE, run_methods
    seen = []
    monkeypatch.setattr(online, 'run_online', _fake_run(seen))
    bench = _suite('benchmark')
    main, city = tmp_path / 'main', tmp_path / 'city'
    clear = dict(seed=0, size=[128, 256], splits=dict(val=100, test=100), version=2,
                 class_pixels={'0': 5})
    for root in (main, city):
        root.mkdir()
        (root / 'proccity.json').write_text(json.dumps(clear))
    (main / WEATHER_STAMP).write_text(json.dumps(dict(version=3, val=dict(wet=[5.0]))))

    def call():
        done = run_methods(_in_repo(dict(adabn=bench.runs.adabn)), 'src.pth',
                           str(tmp_path / 'w'), osp.join(REPO, bench.protocols.conditions),
                           data_root=str(main), target_root=str(city), resume=True)
        return done['adabn']['reused']

    assert not call() and len(seen) == 1
    stamp = json.loads((tmp_path / 'w' / 'adabn' / DATA_STAMP_FILE).read_text())
    assert stamp == {str(main): dict(clear={k: v for k, v in clear.items()
                                            if k != 'class_pixels'}, weather_version=3),
                     str(city): dict(clear=stamp[str(city)]['clear'],
                                     weather_version=None)}
    # more levels rendered, other class counts: the same images, the run is kept
    (main / WEATHER_STAMP).write_text(json.dumps(dict(version=3, val=dict(wet=[4.0, 5.0]))))
    (city / 'proccity.json').write_text(json.dumps(dict(clear, class_pixels={'0': 6})))
    assert call() and len(seen) == 1
    # other weather renderers (a new WEATHER_VERSION): the images changed, run again
    (main / WEATHER_STAMP).write_text(json.dumps(dict(version=4)))
    assert not call() and len(seen) == 2
    # the target city rendered at another size: run again
    (city / 'proccity.json').write_text(json.dumps(dict(clear, size=[256, 512])))
    assert not call() and len(seen) == 3
    assert call() and len(seen) == 3
    # a run written before the stamp existed (no data_stamp.json) is not trusted
    (tmp_path / 'w' / 'adabn' / DATA_STAMP_FILE).unlink()
    assert not call() and len(seen) == 4


def test_benchmark_report_sums_every_runs_own_wall_time(tmp_path, monkeypatch):
    import online_src.apis.demo as demo
    spec = dict(_suite('benchmark'), work_root=str(tmp_path / 'w'))
    spec['protocols'] = {k: spec['protocols'][k] for k in ('storm', 'acdc')}
    monkeypatch.setattr(demo, 'prepare_data', lambda data: None)
    monkeypatch.setattr(demo, 'prepare_source_model', lambda source, root: None)
    monkeypatch.setattr(demo, 'quiet_console', lambda: None)
    seconds = dict(storm=100.0, acdc=1000.0)
    calls = []

    def fake_methods(runs, source, root, proto_file, data_root, target_root, resume):
        calls.append(resume)
        proto = osp.basename(root)
        return OrderedDict((name, dict(work_dir=osp.join(root, name),
                                       seconds=seconds[proto] + i,
                                       reused=proto == 'storm'))
                           for i, name in enumerate(runs))
    monkeypatch.setattr(demo, 'run_methods', fake_methods)
    monkeypatch.setattr(demo, 'compare_runs', lambda dirs, names, out_dir, baselines:
                        ([dict(name=n) for n in names], '| table |\n'))
    monkeypatch.setattr(demo, 'evaluate_goals', lambda summaries, **kw: {})
    monkeypatch.setattr(demo, 'goal_lines', lambda goals: ['goals'])
    report = demo.run_benchmark(spec)
    assert calls == [True, True]  # the benchmark keeps finished runs (resume=True)
    runs = 6 * (100 + 1000) + 2 * sum(range(6))
    assert report['runtime_seconds'] == pytest.approx(
        runs + sum(report['stage_seconds'][k] for k in ('data', 'source_model')))
    assert report['run_seconds']['storm']['cotta'] == dict(seconds=105.0, reused=True)
    text = (tmp_path / 'w' / 'report.md').read_text()
    assert '- storm: source_only 100 (kept), adabn 101 (kept)' in text
    assert '- acdc: source_only 1000, adabn 1001, oracle 1002' in text
    assert f'{report["runtime_seconds"]:.0f} s = ' in text


def test_demo_fits_the_fresh_clone_budget():
    demo = _suite('demo')
    assert tuple(demo.baselines) == BASELINES and set(BASELINES) <= set(demo.runs)
    runs = _in_repo(demo.runs)
    cfg = _method_config(runs['dacs'], demo.protocols.acdc)
    assert cfg.runner.domain_order == ['fog75m', 'night5', '200mm', 'snow5'] * 3
    # The fresh-clone demo with CoTTA (~2.2 s per frame) took over 30 min: CoTTA is
    # the benchmark's only, and the demo streams 5 x 240 frames, 40 images per visit.
    assert 'cotta' not in demo.runs and 'cotta' in _suite('benchmark').runs
    frames = expected_frames(runs, demo.protocols)
    assert frames == 5 * 12 * 20
    evaluated = len(runs) * (len(cfg.data.val) + 12) * cfg.online_evaluation.max_images
    assert evaluated == 5 * 17 * 40
    source = Config.fromfile(osp.join(REPO, demo.source.config))
    assert source.runner.max_iters == 3000  # ~18 min on 2 free cores
    assert 'PhotoMetricDistortion' in [t['type'] for t in source.data.train.pipeline]
    assert set(demo.data.weather) == {'fog', 'night', 'rain', 'snow'}


def test_benchmark_refuses_a_suite_without_the_baselines(tmp_path):
    spec = dict(_suite('demo'), work_root=str(tmp_path / 'w'))
    spec['runs'] = {k: v for k, v in spec['runs'].items() if k != 'oracle'}
    with pytest.raises(ValueError, match=r"runs \['oracle'\] are missing"):
        run_benchmark(spec)
    assert not osp.exists(tmp_path / 'w')  # refused before any work


def test_demo_data_renders_the_acdc_protocol_sets(tmp_path):
    from mmseg.datasets import build_dataset

    from online_src.apis.demo import prepare_data
    from mmseg_ext.datasets import set_data_root
    demo = _suite('demo')
    data = dict(demo.data, root=str(tmp_path / 'pc'), size=(32, 64), workers=1,
                splits=dict(train=2, val=1, test=1))
    assert prepare_data(data) is True and data_is_cached(data)
    assert prepare_data(data) is False  # cached
    cfg = _method_config(osp.join(REPO, demo.runs.dacs),
                         osp.join(ONLINE, 'proccity_acdc.py'))
    set_data_root(cfg.data, data['root'])
    stream = [build_dataset(c) for c in cfg.data.train[1:]]
    val = [build_dataset(c) for c in cfg.data.val]
    assert [d.name for d in stream] == ['fog75m', 'night5', '200mm', 'snow5']
    assert [d.name for d in val] == ['clear', 'fog75m', 'night5', '200mm', 'snow5']
    assert [len(d) for d in stream + val] == [1] * 9


def test_benchmark_data_renders_the_target_city(tmp_path):
    import json

    from mmseg.datasets import build_dataset

    from online_src.apis.demo import prepare_data
    bench = _suite('benchmark')
    city = dict(root=str(tmp_path / 'city'), splits=dict(val=1, test=1))
    data = dict(bench.data, root=str(tmp_path / 'pc'), size=(32, 64), workers=1,
                splits=dict(train=2, val=1, test=1), weather=dict(rain=(200,)),
                target_city=city)
    assert prepare_data(data) is True and data_is_cached(data)
    with open(tmp_path / 'city' / 'proccity.json') as f:
        assert json.load(f)['style'] == 'target'
    # a target city of another style, or too few images, is rendered again
    assert not data_is_cached(dict(data, target_city=dict(city, splits=dict(val=2))))
    cfg = _method_config(osp.join(REPO, bench.runs.source_only),
                         osp.join(REPO, bench.protocols.conditions))
    val = build_dataset([d for d in cfg.data.val if d.name == 'target_city'][0].to_dict()
                        | dict(data_root=city['root']))
    assert len(val) == 1 and val.img_dir.startswith(city['root'])
