"""`make demo` and the ProcCity benchmark: the whole method on the embedded data.

Stages (each with a progress bar), driven by a suite spec (``demo`` in
``configs/online/demo.py``, ``benchmark`` in ``configs/online/benchmark.py``):

1. data: render ProcCity clear and its weather conditions unless cached in
   ``data.root``;
2. source model: train SegFormer MiT-B0 on clear ProcCity once, cache it in
   ``pretrained/``;
3. online runs: every method of ``runs`` on every protocol of ``protocols``, one
   work dir each (``<work_root>/<protocol>/<method>``);
4. report per protocol (``<work_root>/<protocol>/report.md`` / ``report.json``: per
   method the mean mIoU over the visits and over non-clear visits with bootstrap 95%
   confidence intervals, per domain, stream accuracy, forgetting, frames per second;
   the ``baselines`` rows always present), then ``<work_root>/report.md`` with every
   protocol and the benchmark goals (:mod:`..core.evaluation.goals`).
"""
import datetime
import json
import logging
import os
import os.path as osp
import shutil
import time
from collections import OrderedDict

from mmcv.utils import Config

from mmseg_ext.apis.config import config_hash
from mmseg_ext.apis.workdir import STATUS_FILE
from mmseg_ext.core.checkpoint import atomic_save, load_checkpoint_file
from mmseg_ext.core.evaluation import (atomic_write, atomic_write_json, check_baselines,
                                       compare_runs, evaluate_goals, goal_lines)
from mmseg_ext.datasets.synth.writers import RENDER_VERSION, WEATHER_VERSION

__all__ = ['run_demo', 'run_benchmark', 'prepare_data', 'prepare_source_model',
           'run_methods', 'data_is_cached', 'source_is_cached', 'finished_run_seconds',
           'data_stamp', 'DATA_STAMP_FILE',
           'expected_frames', 'WEATHER_STAMP']

# Written into the data root after rendering: the weather levels and splits rendered
# there (the cache test reads it).
WEATHER_STAMP = 'weather_rendered.json'
# Written into a suite run's work dir: how its data was rendered (:func:`data_stamp`).
DATA_STAMP_FILE = 'data_stamp.json'


def _say(msg):
    print(f'[demo] {msg}', flush=True)


def quiet_console():
    """Keeps INFO logs in the files and off the terminal (the bars show progress).

    Initialises mmseg's logger if nothing did yet (then with no file: online runs
    attach their own log file)."""
    from mmseg.utils import get_root_logger
    for name in ('mmseg', 'mmcv'):
        logger = get_root_logger() if name == 'mmseg' else logging.getLogger(name)
        for h in logger.handlers:
            if type(h) is logging.StreamHandler:
                h.setLevel(logging.WARNING)


def _weather_stamp(root):
    path = osp.join(root, WEATHER_STAMP)
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def _as_json(obj):
    """``obj`` as it reads back from JSON (tuples as lists), to compare with a file."""
    return json.loads(json.dumps(obj))


def _clear_meta(root):
    """The clear set's ``proccity.json`` in ``root`` without its class counts (what
    the renders are a function of), or None when nothing is rendered there."""
    meta_file = osp.join(root, 'proccity.json')
    if not osp.isfile(meta_file):
        return None
    with open(meta_file) as f:
        return {k: v for k, v in json.load(f).items() if k != 'class_pixels'}


def _clear_is_cached(root, splits, data, style):
    """bool: ``root`` holds ProcCity clear images of ``style`` at ``data``'s size and
    seed, at least ``splits`` (split -> images) of them, by the current scene
    renderers (``RENDER_VERSION``)."""
    meta = _clear_meta(root)
    if meta is None:
        return False
    return (meta.get('version') == RENDER_VERSION and
            list(meta.get('size', [])) == list(data['size']) and
            meta.get('seed') == data['seed'] and meta.get('style', 'source') == style and
            all(meta.get('splits', {}).get(s, 0) >= n for s, n in splits.items()))


def data_is_cached(data):
    """bool: ``data.root`` holds the requested ProcCity splits, size, seed,
    rare-class statistics and every weather level of ``data.weather`` on every split
    of ``data.weather_splits`` (as recorded in :data:`WEATHER_STAMP`)."""
    stats_file = osp.join(data['root'], 'sample_class_stats.json')  # rare-class sampling
    if not (osp.isfile(stats_file) and
            _clear_is_cached(data['root'], data['splits'], data, 'source')):
        return False
    target = data.get('target_city')
    if target and not _clear_is_cached(target['root'], target['splits'], data, 'target'):
        return False
    stamp = _weather_stamp(data['root'])
    if stamp.get('version') != WEATHER_VERSION:
        return False  # rendered by other weather renderers (or not at all)
    return all(float(v) in stamp.get(split, {}).get(kind, [])
               for split in data['weather_splits']
               for kind, values in data['weather'].items() for v in values)


def prepare_data(data):
    """Renders ProcCity clear and its weather into ``data.root`` unless already there.

    Args:
        data (dict): ``root``, ``splits`` (split -> images), ``size`` (H, W),
            ``weather`` (condition -> levels: ``rain`` rates in mm/h, ``fog``
            visibilities in m, the other conditions of
            :func:`~mmseg_ext.datasets.synth.write_weather` severities 1..5),
            ``weather_splits``
            (splits rendered in weather: the held-out and stream splits; the
            source trains on clear), ``seed``, ``workers``; optional
            ``target_city`` (``root`` and ``splits`` of the target-city renders).

    Returns:
        bool: True when it rendered, False when cached.
    """
    from mmseg_ext.datasets.synth import write_proccity, write_weather
    if data_is_cached(data):
        _say(f'data: cached in {data["root"]}')
        return False
    weather = {k: tuple(v) for k, v in data['weather'].items()}
    _say(f'data: rendering ProcCity {dict(data["splits"])} at {tuple(data["size"])} '
         f'and {weather} on {list(data["weather_splits"])} into {data["root"]}')
    write_proccity(data['root'], dict(data['splits']), size=tuple(data['size']),
                   seed=data['seed'], workers=data['workers'], progress=True)
    target = data.get('target_city')
    if target:  # the target city: another style, layout and class mix, clear weather
        write_proccity(target['root'], dict(target['splits']), size=tuple(data['size']),
                       seed=data['seed'], workers=data['workers'], progress=True,
                       style='target')
    # rain in mm/h and fog visibilities in m; the other conditions by severity
    conditions = {k: v for k, v in weather.items() if k not in ('rain', 'fog')}
    write_weather(data['root'], rain=weather.get('rain', ()), fog=weather.get('fog', ()),
                  conditions=conditions, splits=tuple(data['weather_splits']),
                  seed=data['seed'], workers=data['workers'], progress=True)
    stamp = _weather_stamp(data['root'])
    if stamp.get('version') != WEATHER_VERSION:
        stamp = dict(version=WEATHER_VERSION)  # levels of older renderers are stale
    for split in data['weather_splits']:
        done = stamp.setdefault(split, {})
        for kind, values in weather.items():
            done[kind] = sorted(set(done.get(kind, [])) | {float(v) for v in values})
    atomic_write_json(stamp, osp.join(data['root'], WEATHER_STAMP))
    return True


def source_is_cached(source):
    """bool: ``source.checkpoint`` exists and was trained from ``source.config`` as it
    resolves now (its ``meta.config_fingerprint``, :func:`.online.config_hash`: keys
    sorted, where-to-write keys left out) on training images rendered as they are
    now (``meta.train_data``, :func:`_source_data`: renderer version, size, seed,
    style, train count), so a changed source recipe or a re-render by other scene
    renderers is trained again instead of silently reusing old weights."""
    if not osp.isfile(source['checkpoint']):
        return False
    meta = load_checkpoint_file(source['checkpoint']).get('meta') or {}
    cfg = Config.fromfile(source['config'])
    return (meta.get('config_fingerprint') == config_hash(cfg) and
            meta.get('train_data') == _as_json(_source_data(cfg)))


def prepare_source_model(source, work_root):
    """Trains the source model once and caches its weights at ``source.checkpoint``.

    Args:
        source (dict): ``config`` (source-training config file) and
            ``checkpoint`` (where the weights are cached).
        work_root (str): the training run goes to ``<work_root>/source_training``.

    Returns:
        bool: True when it trained, False when cached.
    """
    from mmseg.utils import get_root_logger

    from mmseg_ext.apis.train import train_source
    if source_is_cached(source):
        _say(f'source model: cached in {source["checkpoint"]}')
        return False
    if osp.isfile(source['checkpoint']):
        _say(f'source model: {source["checkpoint"]} was trained from another version '
             f'of {source["config"]}; training again')
    cfg = Config.fromfile(source['config'])
    fingerprint = config_hash(cfg)
    cfg.work_dir = osp.join(work_root, 'source_training')
    if osp.isdir(cfg.work_dir):
        shutil.rmtree(cfg.work_dir)
    os.makedirs(cfg.work_dir)
    # The first call fixes mmseg's logger: its INFO lines go to this file only.
    get_root_logger(log_file=osp.join(cfg.work_dir, 'source_training.log'))
    quiet_console()
    cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
        dict(type='ProgressBarHook', desc='source training', priority='VERY_LOW')]
    _say(f'source model: training {osp.basename(source["config"])} for '
         f'{cfg.runner.max_iters} iterations')
    runner = train_source(cfg)
    last = osp.join(cfg.work_dir, f'iter_{runner.iter}.pth')
    if not osp.isfile(last):
        last = osp.join(cfg.work_dir, 'latest.pth')
    ckpt = load_checkpoint_file(last)
    atomic_save(dict(state_dict=ckpt['state_dict'],
                     meta=dict(config=osp.basename(source['config']),
                               config_fingerprint=fingerprint, iters=runner.iter,
                               train_data=_source_data(cfg))),
                source['checkpoint'])
    _say(f'source model: cached in {source["checkpoint"]}')
    return True


def _method_config(cfg_file, protocol=None):
    """The online config of a method with a protocol's keys merged over its own: the
    data (stream and held-out sets) and their root keys, ``online_evaluation`` and
    the runner's ``domain_order`` and ``frames_per_domain``; the method's other runner
    keys (``adapt``, budgets, replay) stay."""
    cfg = Config.fromfile(cfg_file)
    if protocol:
        proto = Config.fromfile(protocol)
        # the protocol's root keys (e.g. proccity_target_root) name its datasets' roots
        roots = {k: v for k, v in proto.items() if k.endswith('_root')}
        cfg.merge_from_dict(dict(
            roots, data=proto.data.to_dict(),
            online_evaluation=proto.online_evaluation.to_dict(),
            runner=dict(domain_order=list(proto.runner.domain_order),
                        frames_per_domain=proto.runner.frames_per_domain)))
        # nested dicts of merged lists as ConfigDicts again, as Config.fromfile gives
        cfg = Config(cfg._cfg_dict.to_dict(), cfg_text=cfg.text, filename=cfg.filename)
    return cfg


def expected_frames(runs, protocols):
    """int: target frames all runs of a suite stream (its CPU budget's main term).

    Args:
        runs (dict): method name -> online config file.
        protocols (dict): protocol name -> protocol file (None: the method
            configs' own stream).
    """
    total = 0
    for protocol in protocols.values():
        for cfg_file in runs.values():
            runner = _method_config(cfg_file, protocol).runner
            total += len(runner.domain_order) * int(runner.frames_per_domain)
    return total


def _data_roots(node):
    """Every ``data_root`` at any depth of a data config (lists, wrapped datasets)."""
    if isinstance(node, dict):
        found = {node['data_root']} if node.get('data_root') else set()
        return found.union(*(_data_roots(v) for v in node.values()))
    if isinstance(node, (list, tuple)):
        return set().union(*(_data_roots(v) for v in node))
    return set()


def data_stamp(cfg):
    """What the ProcCity images a run reads were rendered as.

    For every root its datasets read (each ``data_root`` in ``cfg.data``): the clear
    set's ``proccity.json`` (size, seed, splits, style, renderer version; the
    renders are a function of these) and the weather renderers' version
    (:data:`WEATHER_STAMP`). A run whose stamp differs read other images.

    Returns:
        dict: root -> ``clear`` (``proccity.json`` without its class counts, or None)
        and ``weather_version`` (or None).
    """
    return {root: dict(clear=_clear_meta(root),
                       weather_version=_weather_stamp(root).get('version'))
            for root in sorted(_data_roots(cfg.data))}


def _source_data(cfg):
    """What the source model's training images were rendered as: the clear set's
    ``proccity.json`` of its ``data_root`` (:func:`_clear_meta`) with only the
    ``train`` split's count; None when that root holds no ProcCity render."""
    root = ((cfg.get('data') or {}).get('train') or {}).get('data_root')
    meta = _clear_meta(root) if root else None
    if meta is not None:
        meta['splits'] = dict(train=(meta.get('splits') or {}).get('train'))
    return meta


def finished_run_seconds(cfg, stamp=None):
    """The wall time of the finished run of ``cfg`` that ``cfg.work_dir`` already holds.

    A run counts as finished when its ``status.json`` says ``finished``, its
    summary (``summary.json``) and ``latest.pth`` are there, the checkpoint was
    written by this very config (its ``meta.config_hash`` equals
    :func:`~mmseg_ext.apis.config.config_hash` of ``cfg``: where-to-write keys
    aside, every key equal) and, given ``stamp``, it read data rendered the same
    way (its :data:`DATA_STAMP_FILE` equals ``stamp``). A killed, failed or
    differently configured run is not, nor one whose images were rendered again by
    other renderers or at other sizes since.

    Args:
        cfg (mmcv.Config): the run's config, with ``work_dir`` set.
        stamp (dict | None): :func:`data_stamp` of ``cfg`` now; None: not compared.
            Default: None.

    Returns:
        float | None: seconds from the run's ``started`` to its ``finished`` stamp
        in ``status.json``; None when the work dir holds no such run.
    """
    from .online import FINISHED_FILE
    work_dir = cfg.work_dir
    status_file = osp.join(work_dir, STATUS_FILE)
    latest = osp.join(work_dir, 'latest.pth')
    if not all(osp.isfile(f) for f in (status_file, latest,
                                        osp.join(work_dir, FINISHED_FILE))):
        return None
    with open(status_file) as f:
        status = json.load(f)
    if status.get('status') != 'finished':
        return None
    meta = load_checkpoint_file(latest).get('meta') or {}
    if meta.get('config_hash') != config_hash(cfg):
        return None
    if stamp is not None:
        stamp_file = osp.join(work_dir, DATA_STAMP_FILE)
        if not osp.isfile(stamp_file):
            return None
        with open(stamp_file) as f:
            if json.load(f) != _as_json(stamp):
                return None
    return _status_seconds(status)


def _status_seconds(status):
    started, finished = (datetime.datetime.fromisoformat(status[k])
                         for k in ('started', 'finished'))
    return (finished - started).total_seconds()


def run_methods(runs, source_checkpoint, work_root, protocol=None, data_root=None,
                target_root=None, resume=False):
    """Runs every online config of ``runs`` from the source model.

    Args:
        runs (dict): method name -> online config file.
        source_checkpoint (str): the source model all runs start from.
        work_root (str): each run goes to ``<work_root>/<method>``.
        protocol (str | None): a protocol file (``configs/_base_/online/proccity_*``)
            whose stream, held-out sets and evaluation replace the method config's;
            None runs the method configs as they are. Default: None.
        data_root (str | None): the ProcCity root the datasets at the configs'
            ``data_root`` read instead (the suite's ``data.root``); None keeps the
            configs' roots. Default: None.
        target_root (str | None): the root the target-city datasets (at the
            configs' ``proccity_target_root``) read instead (the suite's
            ``data.target_city.root``). Default: None.
        resume (bool): keep a run whose work dir already holds the finished run of
            the same config (:func:`finished_run_seconds`) instead of running it
            again; any other work dir content is replaced. A run is the same when
            it also read data rendered the same way (:func:`data_stamp`, written
            into each run's work dir). Default: False (every run again).

    Returns:
        OrderedDict: method name -> ``work_dir``, ``seconds`` (the run's wall time,
        from its ``status.json``) and ``reused`` (True: finished before this call),
        in ``runs`` order.
    """
    from mmseg_ext.datasets import replace_roots
    from .online import run_online
    done = OrderedDict()
    for name, cfg_file in runs.items():
        cfg = _method_config(cfg_file, protocol)
        roots = {cfg.data_root: data_root} if data_root else {}
        if target_root and cfg.get('proccity_target_root'):
            roots[cfg.proccity_target_root] = target_root
        replace_roots(cfg.data, roots)
        cfg.work_dir = osp.join(work_root, name)
        cfg.load_from = source_checkpoint
        cfg.progress_bar = dict(enabled=True, desc=name)
        stamp = data_stamp(cfg)
        seconds = finished_run_seconds(cfg, stamp) if resume else None
        reused = seconds is not None
        if reused:
            _say(f'{name}: the finished run in {cfg.work_dir} is kept (resume)')
        else:
            run_online(cfg, overwrite=True)
            atomic_write_json(stamp, osp.join(cfg.work_dir, DATA_STAMP_FILE))
            with open(osp.join(cfg.work_dir, STATUS_FILE)) as f:
                seconds = _status_seconds(json.load(f))
        done[name] = dict(work_dir=cfg.work_dir, seconds=seconds, reused=reused)
    return done


def run_benchmark(spec, title='ProcCity benchmark'):
    """Runs a suite: data, source model, every method on every protocol, reports.

    Args:
        spec (dict): ``work_root``, ``threads`` (torch CPU threads, or None),
            ``data`` (:func:`prepare_data`), ``source``
            (:func:`prepare_source_model`), ``protocols`` (name -> protocol file,
            or None for the method configs' own stream), ``runs`` (method name ->
            online config; the reports keep this order), ``baselines`` (run names
            every report must have, checked before any work), ``goals`` (keyword
            arguments of :func:`~mmseg_ext.core.evaluation.evaluate_goals`),
            ``resume`` (keep the finished runs of the same configs already in
            ``work_root``, :func:`run_methods`: a suite that was interrupted is
            finished by running the same command again).
        title (str): heading of ``report.md``.

    Returns:
        OrderedDict: ``protocols`` (name -> method name -> summary), ``goals``,
        ``stage_seconds`` (this call's stages), ``run_seconds`` (protocol -> method
        -> ``seconds`` and ``reused``), ``runtime_seconds`` (data and source model
        stages of this call plus every run's own wall time), ``settings``.
    """
    check_baselines(list(spec['runs']), spec['baselines'])
    source_root = Config.fromfile(spec['source']['config']).data.train.get('data_root')
    if source_root != spec['data']['root']:
        raise ValueError(f'benchmark: the source config {spec["source"]["config"]} '
                         f'trains on {source_root!r}, the suite renders '
                         f'{spec["data"]["root"]!r}; give both the same root')
    if spec.get('threads'):
        import torch
        torch.set_num_threads(int(spec['threads']))
    os.makedirs(spec['work_root'], exist_ok=True)
    times = OrderedDict()
    t = time.perf_counter()
    prepare_data(spec['data'])
    times['data'] = time.perf_counter() - t
    t = time.perf_counter()
    prepare_source_model(spec['source'], spec['work_root'])
    times['source_model'] = time.perf_counter() - t
    quiet_console()
    summaries, text = OrderedDict(), [f'# {title}\n']
    run_seconds = OrderedDict()
    for proto, proto_file in spec['protocols'].items():
        t = time.perf_counter()
        root = osp.join(spec['work_root'], proto)
        done = run_methods(spec['runs'], spec['source']['checkpoint'], root, proto_file,
                           data_root=spec['data']['root'],
                           target_root=(spec['data'].get('target_city') or {}).get('root'),
                           resume=bool(spec['resume']))
        times[f'online_runs_{proto}'] = time.perf_counter() - t
        run_seconds[proto] = OrderedDict(
            (name, dict(seconds=run['seconds'], reused=run['reused']))
            for name, run in done.items())
        found, table = compare_runs([run['work_dir'] for run in done.values()],
                                    list(spec['runs']), out_dir=root,
                                    baselines=spec['baselines'])
        summaries[proto] = OrderedDict((s['name'], s) for s in found)
        text.append(f'## Protocol {proto} ({proto_file or "the method configs"})\n\n'
                    f'{table}')
    goals = evaluate_goals(summaries, **dict(spec.get('goals') or {}))
    text.append('## Goals (bench/proccity_goals.py)\n\n```\n' +
                '\n'.join(goal_lines(goals)) + '\n```\n')
    text.append('## Stage times (s)\n\n' +
                '\n'.join(f'- {k}: {v:.0f}' for k, v in times.items()) + '\n')
    runtime = times['data'] + times['source_model'] + sum(
        run['seconds'] for runs in run_seconds.values() for run in runs.values())
    text.append(
        '## Run times (s; each run from its start to its finish, status.json; '
        '"kept": finished by an earlier call, resume)\n\n' + '\n'.join(
            f'- {proto}: ' + ', '.join(
                f'{name} {run["seconds"]:.0f}' + (' (kept)' if run['reused'] else '')
                for name, run in runs.items())
            for proto, runs in run_seconds.items()) +
        f'\n\nRuntime (this call\'s data and source model stages + every run): '
        f'{runtime:.0f} s = {runtime / 3600:.2f} h\n')
    report = OrderedDict(protocols=summaries, goals=goals, stage_seconds=times,
                         run_seconds=run_seconds, runtime_seconds=runtime,
                         settings=dict(data=dict(spec['data']), source=dict(spec['source']),
                                       protocols=dict(spec['protocols']),
                                       runs=dict(spec['runs'])))
    text = '\n'.join(text)
    atomic_write(text, osp.join(spec['work_root'], 'report.md'))
    atomic_write_json(report, osp.join(spec['work_root'], 'benchmark.json'))
    print(text, flush=True)
    return report


def run_demo(cfg):
    """Runs the demo suite ``cfg.demo`` (:func:`run_benchmark`): the reduced ProcCity
    protocol of ``configs/online/demo.py``, its report and the benchmark goals.

    Args:
        cfg (mmcv.Config): with ``demo`` (see ``configs/online/demo.py``).

    Returns:
        dict: the report of :func:`run_benchmark`.
    """
    return run_benchmark(cfg.demo, title='make demo: online adaptation on ProcCity')
