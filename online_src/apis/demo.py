"""`make demo`: the whole method on the embedded ProcCity data, on a CPU, in minutes.

Stages (each with a progress bar), driven by a demo config (``configs/online/demo.py``):

1. data: render ProcCity clear + rain (25..200 mm/h) unless cached in ``data_root``;
2. source model: train SegFormer MiT-B0 on clear ProcCity once, cache it in
   ``pretrained/``;
3. online runs: source-only, AdaBN, TENT, DACS and HAMLET-style budgeted DACS over the
   increasing storm, one work dir each under ``work_root``;
4. report: ``report.md`` / ``report.json`` (per method: mean mIoU over the stream
   and over rainy domains, per domain, stream accuracy per domain, final clear minus
   first clear, adaptation / inference frames per second) and the goals checked.
"""
import json
import logging
import os
import os.path as osp
import shutil
import time
from collections import OrderedDict

from mmcv.utils import Config

from mmseg_ext.core.checkpoint import atomic_save, load_checkpoint_file
from mmseg_ext.core.evaluation import atomic_write, atomic_write_json, compare_runs
from mmseg_ext.apis.config import config_hash

__all__ = ['run_demo', 'prepare_data', 'prepare_source_model', 'run_methods',
           'check_goals', 'data_is_cached', 'source_is_cached']


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


def data_is_cached(data):
    """bool: ``data.root`` holds the requested ProcCity splits, size, rain rates and
    rare-class statistics."""
    from mmseg_ext.datasets.synth import rain_dir
    meta_file = osp.join(data['root'], 'proccity.json')
    stats_file = osp.join(data['root'], 'sample_class_stats.json')  # rare-class sampling
    if not (osp.isfile(meta_file) and osp.isfile(stats_file)):
        return False
    with open(meta_file) as f:
        meta = json.load(f)
    if list(meta.get('size', [])) != list(data['size']) or \
            meta.get('seed') != data['seed'] or \
            any(meta.get('splits', {}).get(s, 0) < n for s, n in data['splits'].items()):
        return False
    return all(osp.isdir(osp.join(data['root'], rain_dir(s, r)))
               for s in data['splits'] for r in data['rain'])


def prepare_data(data):
    """Renders ProcCity clear + rain into ``data.root`` unless already there.

    Args:
        data (dict): ``root``, ``splits`` (split -> images), ``size`` (H, W),
            ``rain`` (rates in mm/h), ``seed``, ``workers``.

    Returns:
        bool: True when it rendered, False when cached.
    """
    from mmseg_ext.datasets.synth import write_proccity, write_weather
    if data_is_cached(data):
        _say(f'data: cached in {data["root"]}')
        return False
    _say(f'data: rendering ProcCity {dict(data["splits"])} at {tuple(data["size"])} '
         f'and rain {list(data["rain"])} mm/h into {data["root"]}')
    write_proccity(data['root'], dict(data['splits']), size=tuple(data['size']),
                   seed=data['seed'], workers=data['workers'], progress=True)
    write_weather(data['root'], rain=tuple(data['rain']), fog=(),
                  splits=tuple(data['splits']), seed=data['seed'],
                  workers=data['workers'], progress=True)
    return True


def source_is_cached(source):
    """bool: ``source.checkpoint`` exists and was trained from ``source.config`` as it
    resolves now (its ``meta.config_fingerprint``, :func:`.online.config_hash`: keys
    sorted, where-to-write keys left out), so a changed source recipe is trained
    again instead of silently reusing old weights."""
    if not osp.isfile(source['checkpoint']):
        return False
    meta = load_checkpoint_file(source['checkpoint']).get('meta') or {}
    return meta.get('config_fingerprint') == \
        config_hash(Config.fromfile(source['config']))


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
                               config_fingerprint=fingerprint, iters=runner.iter)),
                source['checkpoint'])
    _say(f'source model: cached in {source["checkpoint"]}')
    return True


def run_methods(runs, source_checkpoint, work_root):
    """Runs every online config of ``runs`` from the source model.

    Args:
        runs (dict): method name -> online config file.
        source_checkpoint (str): the source model all runs start from.
        work_root (str): each run goes to ``<work_root>/<method>``.

    Returns:
        list[str]: the work dirs, in ``runs`` order.
    """
    from .online import run_online
    work_dirs = []
    for name, cfg_file in runs.items():
        cfg = Config.fromfile(cfg_file)
        cfg.work_dir = osp.join(work_root, name)
        cfg.load_from = source_checkpoint
        cfg.progress_bar = dict(enabled=True, desc=name)
        run_online(cfg, overwrite=True)
        work_dirs.append(cfg.work_dir)
    return work_dirs


def check_goals(summaries, baseline='source_only', adapted='dacs', budgeted='dacs_hamlet'):
    """The README's goals, measured: numbers and whether each holds.

    Args:
        summaries (dict): method name -> :func:`summarize_run` output.
        baseline, adapted, budgeted (str): the method names compared.

    Returns:
        OrderedDict: goal -> dict(value, target, met).
    """
    goals = OrderedDict()
    base, dacs = summaries.get(baseline), summaries.get(adapted)
    if base and dacs:
        gain = dacs['rain_mIoU'] - base['rain_mIoU']
        goals['dacs_minus_source_rain_mIoU'] = dict(value=gain, target='>= 5', met=gain >= 5)
        heavy = [d for d in dacs['per_domain'] if d == '200mm']
        if heavy:
            g = dacs['per_domain']['200mm'] - base['per_domain']['200mm']
            goals['dacs_minus_source_200mm'] = dict(value=g, target='> 0', met=g > 0)
        f = dacs['final_minus_first']
        goals['dacs_final_minus_first_clear'] = dict(value=f, target='>= -1', met=f >= -1)
        ratio = dacs['adapt_fps'] / base['inference_fps']
        goals['dacs_adapt_fps_over_inference_fps'] = dict(value=ratio, target='report',
                                                          met=True)
    ham = summaries.get(budgeted)
    if base and ham:
        # Against the inference-only frames of the same run (same CPU load: the
        # CPU may be shared) and against the source-only run.
        ratio = ham['fps'] / ham['inference_fps']
        goals['hamlet_fps_over_own_inference_fps'] = dict(value=ratio, target='>= 0.5',
                                                          met=bool(ratio >= 0.5))
        ratio = ham['fps'] / base['inference_fps']
        goals['hamlet_fps_over_source_only_fps'] = dict(value=ratio, target='>= 0.5',
                                                        met=bool(ratio >= 0.5))
        if dacs:  # a share of a gain only exists when DACS gains
            full = dacs['rain_mIoU'] - base['rain_mIoU']
            kept = (ham['rain_mIoU'] - base['rain_mIoU']) / full if full > 0 \
                else float('nan')
            goals['hamlet_share_of_dacs_rain_gain'] = dict(value=kept, target='> 0.5',
                                                           met=bool(kept > 0.5))
    return goals


def _goals_markdown(goals):
    lines = ['| goal | value | target | met |', '|---|---|---|---|']
    for k, g in goals.items():
        lines.append(f'| {k} | {g["value"]:.2f} | {g["target"]} | '
                     f'{"yes" if g["met"] else "NO"} |')
    return '\n'.join(lines) + '\n'


def run_demo(cfg):
    """Runs the four stages of the demo config ``cfg.demo``.

    Args:
        cfg (mmcv.Config): with ``demo = dict(work_root, data, source, runs,
            threads)`` (see ``configs/online/demo.py``).

    Returns:
        dict: the report (summaries per method, goals, stage times, settings).
    """
    demo = cfg.demo
    if demo.get('threads'):
        import torch
        torch.set_num_threads(int(demo.threads))
    os.makedirs(demo.work_root, exist_ok=True)
    times = OrderedDict()
    t = time.perf_counter()
    prepare_data(demo.data)
    times['data'] = time.perf_counter() - t
    t = time.perf_counter()
    prepare_source_model(demo.source, demo.work_root)
    times['source_model'] = time.perf_counter() - t
    quiet_console()
    t = time.perf_counter()
    work_dirs = run_methods(demo.runs, demo.source.checkpoint, demo.work_root)
    times['online_runs'] = time.perf_counter() - t
    names = list(demo.runs)
    summaries, table = compare_runs(work_dirs, names, out_dir=demo.work_root)
    by_name = OrderedDict((s['name'], s) for s in summaries)
    goals = check_goals(by_name)
    report = OrderedDict(
        summaries=by_name, goals=goals, stage_seconds=times,
        settings=dict(data=dict(demo.data), source=dict(demo.source),
                      runs=dict(demo.runs)))
    text = ('# make demo: online adaptation on the ProcCity increasing storm\n\n' + table +
            '\n## Goals\n\n' + _goals_markdown(goals) +
            '\n## Stage times (s)\n\n' +
            '\n'.join(f'- {k}: {v:.0f}' for k, v in times.items()) + '\n')
    atomic_write(text, osp.join(demo.work_root, 'report.md'))
    atomic_write_json(report, osp.join(demo.work_root, 'report.json'))
    print(text, flush=True)
    return report
