"""Genetic hyper-parameter search over online runs, on an Optuna study.

A config's ``search`` section declares the ranges (keys are dotted config paths,
e.g. ``'optimizer.lr'`` or ``'uda.alpha'``), the objectives (metrics of a run,
each maximised or minimised) and the sampler: by default Optuna's NSGA-II
(Deb et al., "A fast and elitist multiobjective genetic algorithm: NSGA-II",
IEEE TEVC 2002), which gives the Pareto front of e.g. mean stream mIoU versus
adaptation FPS. Every trial is the base config with the sampled values merged
in, run by an objective callable ``objective(cfg) -> dict(metric=value)``; by
default an online run of the experiment system (:func:`online_objective`).

The study lives in an Optuna RDB storage: an SQLite file by default (embedded),
or a ``postgresql://`` URL so that workers on many machines share one study.
Workers are independent processes calling :func:`run_search` with the same
storage and study name; each adds ``n_trials`` trials.
"""
import copy
import json
import os
import os.path as osp
import random
import time

import optuna
import sqlalchemy.exc
from mmcv.utils import Config

from mmseg_ext.core.fileio import atomic_write

PARAM_TYPES = ('float', 'int', 'categorical')
DIRECTIONS = ('maximize', 'minimize')
SAMPLERS = {
    'NSGAIISampler': optuna.samplers.NSGAIISampler,
    'NSGAIIISampler': optuna.samplers.NSGAIIISampler,
    'TPESampler': optuna.samplers.TPESampler,
    'RandomSampler': optuna.samplers.RandomSampler,
}
SEARCH_KEYS = ('params', 'objectives', 'sampler', 'n_trials', 'timeout', 'storage',
               'study_name', 'heartbeat_interval', 'work_dir', 'show_progress_bar')
SQLITE_LOCK_TIMEOUT_S = 120
CREATE_ATTEMPTS = 6


def _lookup(cfg, dotted):
    """Value of ``cfg`` at a dotted path (list items by index); KeyError if absent."""
    node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for part in dotted.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit():
            if int(part) >= len(node):
                raise KeyError(dotted)
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(dotted)
    return node


def check_search_cfg(cfg):
    """Validates the ``search`` section of a config, before any trial runs.

    Args:
        cfg (mmcv.Config): a run config with a ``search`` section
            (see ``configs/_base_/search/nsga2.py`` for every key).

    Returns:
        mmcv.ConfigDict: the ``search`` section.

    Raises:
        ValueError / KeyError: naming the offending key and what was expected.
    """
    search = cfg.get('search')
    if search is None:
        raise KeyError('the config has no "search" section: inherit '
                       "configs/_base_/search/nsga2.py and declare search.params")
    unknown = sorted(set(search) - set(SEARCH_KEYS))
    if unknown:
        raise KeyError(f'search has unknown key(s) {unknown}; the keys are '
                       f'{list(SEARCH_KEYS)} (configs/_base_/search/nsga2.py)')
    params = search.get('params') or {}
    if not params:
        raise ValueError('search.params is empty: declare at least one range, e.g. '
                         "{'optimizer.lr': dict(type='float', low=1e-5, high=1e-3, log=True)}")
    for key, spec in params.items():
        kind = spec.get('type')
        if kind not in PARAM_TYPES:
            raise ValueError(f'search.params[{key!r}].type is {kind!r}; expected one '
                             f'of {PARAM_TYPES}')
        if kind == 'categorical':
            if not spec.get('choices'):
                raise ValueError(f'search.params[{key!r}] is categorical and needs a '
                                 'non-empty "choices" list')
        else:
            if 'low' not in spec or 'high' not in spec:
                raise ValueError(f'search.params[{key!r}] needs "low" and "high"')
            if not spec['low'] < spec['high']:
                raise ValueError(f'search.params[{key!r}]: low={spec["low"]} must be '
                                 f'below high={spec["high"]}')
            if spec.get('log', False) and spec['low'] <= 0:
                raise ValueError(f'search.params[{key!r}] has log=True and needs '
                                 f'low > 0, got {spec["low"]}')
        try:
            _lookup(cfg, key)
        except KeyError:
            raise KeyError(f'search.params key {key!r} does not name a value of the '
                           'config (dotted path, list items by index)') from None
    objectives = search.get('objectives') or []
    if not objectives:
        raise ValueError('search.objectives is empty: e.g. '
                         "[dict(metric='mIoU', direction='maximize')]")
    for obj in objectives:
        if obj.get('direction') not in DIRECTIONS:
            raise ValueError(f'search.objectives: direction of {obj.get("metric")!r} '
                             f'is {obj.get("direction")!r}; expected one of {DIRECTIONS}')
    sampler_type = search.get('sampler', {}).get('type')
    if sampler_type not in SAMPLERS:
        raise ValueError(f'search.sampler.type is {sampler_type!r}; expected one of '
                         f'{sorted(SAMPLERS)}')
    heartbeat = search.get('heartbeat_interval')
    if heartbeat is not None and int(heartbeat) < 1:
        raise ValueError(f'search.heartbeat_interval must be >= 1 s or None, '
                         f'got {heartbeat}')
    if int(search.get('n_trials', 0)) < 1:
        raise ValueError(f'search.n_trials must be >= 1, got {search.get("n_trials")}')
    return search


def build_sampler(sampler_cfg, worker_id=0):
    """Builds the Optuna sampler of ``search.sampler``.

    Args:
        sampler_cfg (dict): ``type`` (a name of :data:`SAMPLERS`) and its keyword
            arguments; ``seed`` is offset by ``worker_id`` so that parallel
            workers do not draw the same first generation.
        worker_id (int): index of this worker. Default: 0.
    """
    kwargs = dict(sampler_cfg)
    sampler_cls = SAMPLERS[kwargs.pop('type')]
    if kwargs.get('seed') is not None:
        kwargs['seed'] = int(kwargs['seed']) + int(worker_id)
    return sampler_cls(**kwargs)


def build_storage(url, heartbeat_interval=None):
    """An Optuna RDB storage for ``url`` (``sqlite:///file.db`` or
    ``postgresql://user@host:port/db``, psycopg2 driver); SQLite files get their
    directory created and a lock timeout long enough for several local workers.

    Args:
        url (str): the study store.
        heartbeat_interval (int | None): seconds between a running trial's
            heartbeats; a trial whose worker died (no heartbeat for twice that)
            is marked failed by the next worker. None: no heartbeat. Default: None.
    """
    engine_kwargs = {}
    if url.startswith('postgresql://'):
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the project ships
        # psycopg2-binary (requirements/runtime.txt), so name that driver.
        url = 'postgresql+psycopg2://' + url[len('postgresql://'):]
    if url.startswith('sqlite:///'):
        path = url[len('sqlite:///'):]
        if osp.dirname(path):
            os.makedirs(osp.dirname(path), exist_ok=True)
        engine_kwargs = dict(connect_args=dict(timeout=SQLITE_LOCK_TIMEOUT_S))
    return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                      heartbeat_interval=heartbeat_interval)


def suggest_overrides(trial, params):
    """Samples every declared range: returns ``{dotted key: value}``."""
    overrides = {}
    for key, spec in params.items():
        kind = spec['type']
        if kind == 'float':
            overrides[key] = trial.suggest_float(key, spec['low'], spec['high'],
                                                 log=spec.get('log', False),
                                                 step=spec.get('step'))
        elif kind == 'int':
            overrides[key] = trial.suggest_int(key, spec['low'], spec['high'],
                                               log=spec.get('log', False),
                                               step=spec.get('step', 1))
        else:
            overrides[key] = trial.suggest_categorical(key, list(spec['choices']))
    return overrides


def trial_config(cfg, overrides, work_dir):
    """The base config with ``overrides`` merged in and its own ``work_dir``."""
    trial_cfg = copy.deepcopy(cfg)
    trial_cfg.merge_from_dict(dict(overrides))
    trial_cfg.work_dir = work_dir
    return trial_cfg


def online_objective(cfg):
    """Default objective: one online run of the experiment system.

    Returns the run's summary metrics (``mIoU``: mean mIoU over the stream,
    ``fps``: adaptation frames per second, ...) from
    :func:`online_src.apis.online.run_online`.
    """
    from .online import run_online
    return run_online(cfg)


def _create_study(search, storage, study_name, worker_id):
    """Creates or joins the study. Workers starting together race to create the
    storage's tables ("table studies already exists", a duplicate key on
    PostgreSQL): the loser retries after a short random wait and finds them."""
    for attempt in range(CREATE_ATTEMPTS):
        try:
            return optuna.create_study(
                storage=build_storage(storage, search.get('heartbeat_interval')),
                study_name=study_name,
                sampler=build_sampler(search.sampler, worker_id),
                directions=[o['direction'] for o in search.objectives],
                load_if_exists=True)
        except sqlalchemy.exc.DBAPIError:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1) + random.random() * 0.3)


def run_search(cfg, objective=None, n_trials=None, worker_id=0, storage=None,
               study_name=None):
    """Runs (or joins) the study of ``cfg.search`` and adds trials to it.

    Args:
        cfg (mmcv.Config): base run config with a ``search`` section.
        objective (callable | None): ``objective(trial_cfg) -> dict`` of metrics
            holding every ``search.objectives[*].metric``. Default: None
            (:func:`online_objective`).
        n_trials (int | None): trials this worker adds. Default: None
            (``search.n_trials``).
        worker_id (int): worker index, offsets the sampler seed. Default: 0.
        storage (str | None): study URL. Default: None (``search.storage``).
        study_name (str | None): Default: None (``search.study_name``).

    Returns:
        optuna.Study: the shared study (all workers' trials).
    """
    search = check_search_cfg(cfg)
    objective = objective or online_objective
    storage = storage or search.storage
    study_name = study_name or search.study_name
    metrics = [o['metric'] for o in search.objectives]
    study = _create_study(search, storage, study_name, worker_id)
    root = osp.join(search.work_dir, study_name)

    def optuna_objective(trial):
        overrides = suggest_overrides(trial, search.params)
        work_dir = osp.join(root, f'trial_{trial.number:04d}')
        result = objective(trial_config(cfg, overrides, work_dir))
        missing = [m for m in metrics if m not in result]
        if missing:
            raise KeyError(f'the objective returned metrics {sorted(result)}, '
                           f'missing {missing} required by search.objectives')
        for key, value in result.items():
            if isinstance(value, (int, float, str, bool)):
                trial.set_user_attr(key, value)
        trial.set_user_attr('work_dir', work_dir)
        trial.set_user_attr('worker_id', int(worker_id))
        values = [float(result[m]) for m in metrics]
        return values[0] if len(values) == 1 else values

    study.optimize(optuna_objective, n_trials=int(n_trials or search.n_trials),
                   timeout=search.get('timeout'),
                   show_progress_bar=bool(search.get('show_progress_bar', False)))
    return study


def load_study(cfg, storage=None, study_name=None):
    """Opens the existing study of ``cfg.search`` (for reports)."""
    search = check_search_cfg(cfg)
    return optuna.load_study(study_name=study_name or search.study_name,
                             storage=build_storage(storage or search.storage))


METRIC_UNITS = {'mIoU': '%', 'fps': 'frames/s', 'adapt_fps': 'frames/s',
                'inference_fps': 'frames/s', 'step_seconds': 's'}


def _option_text(value):
    """``value`` as mmcv's ``DictAction`` reads it back (exact float repr, lists
    in brackets, strings bare)."""
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_option_text(v) for v in value) + ']'
    if isinstance(value, bool) or value is None:
        return str(value)
    return repr(value) if isinstance(value, float) else str(value)


def rerun_command(config_file, params, work_dir, cfg_options=None):
    """The command that reruns one trial: ``tools/train.py`` on the search's config
    with the search's own ``--cfg-options`` and the trial's sampled values.

    Args:
        config_file (str): the search config (``cfg.filename``).
        params (dict): the trial's ``{dotted key: value}``.
        work_dir (str): the rerun's work dir.
        cfg_options (dict | None): ``--cfg-options`` given to the search.
            Default: None.

    Returns:
        str: a shell command (values quoted where the shell would split them).
    """
    import shlex
    options = dict(cfg_options or {})
    options.update(params)
    words = ['python', 'tools/train.py', config_file, '--work-dir', work_dir]
    if options:
        words.append('--cfg-options')
        words += [f'{k}={_option_text(v)}' for k, v in options.items()]
    return ' '.join(shlex.quote(w) for w in words)


def best_trials(study, metrics, config_file=None, cfg_options=None):
    """The Pareto-optimal trials (the best one for a single objective) as rows
    ``dict(number, <metric>=value..., params, work_dir, command)`` sorted by the
    first metric; ``command`` reruns the trial (:func:`rerun_command`) into
    ``<work_dir>_rerun`` when ``config_file`` is given."""
    rows = []
    for t in study.best_trials:
        row = dict(number=t.number)
        row.update({m: v for m, v in zip(metrics, t.values)})
        row['params'] = dict(t.params)
        row['work_dir'] = t.user_attrs.get('work_dir')
        if config_file is not None:
            row['command'] = rerun_command(
                config_file, t.params, f'{row["work_dir"] or "work_dirs/rerun"}_rerun',
                cfg_options)
        rows.append(row)
    reverse = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    return sorted(rows, key=lambda r: r[metrics[0]], reverse=reverse)


def format_best(rows, metrics):
    """A PrettyTable of :func:`best_trials` rows."""
    from prettytable import PrettyTable
    keys = sorted({k for r in rows for k in r['params']})
    table = PrettyTable(['trial'] + list(metrics) + keys)
    for r in rows:
        table.add_row([r['number']] + [f'{r[m]:.4g}' for m in metrics] +
                      [f'{r["params"][k]:.4g}' if isinstance(r['params'].get(k), float)
                       else r['params'].get(k) for k in keys])
    return table.get_string()


def _axis_label(metric, direction):
    unit = METRIC_UNITS.get(metric)
    better = 'higher' if direction == optuna.study.StudyDirection.MAXIMIZE else 'lower'
    return f'{metric} ({unit}, {better} is better)' if unit else f'{metric} ({better} is better)'


def plot_study(study, metrics, out_file):
    """Writes the study's figure as a PNG at ``out_file``: for two or more
    objectives every completed trial on the first two metrics, the Pareto trials
    joined and labelled with their trial numbers; for one objective each trial's
    value and the best so far. Axes name the metric, its unit and which way is
    better; the title names the study and the trial count."""
    import matplotlib.pyplot as plt
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    trials = study.get_trials(deepcopy=False,
                              states=(optuna.trial.TrialState.COMPLETE, ))
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    if len(metrics) == 1:
        xs = [t.number for t in trials]
        ys = [t.value for t in trials]
        best = (max if study.direction == optuna.study.StudyDirection.MAXIMIZE
                else min)
        running = [best(ys[:i + 1]) for i in range(len(ys))]
        ax.plot(xs, ys, 'o', color='tab:blue', label='trial')
        ax.step(xs, running, where='post', color='tab:red', label='best so far')
        ax.set_xlabel('trial number')
        ax.set_ylabel(_axis_label(metrics[0], study.direction))
        ax.legend()
    else:
        best_numbers = {t.number for t in study.best_trials}
        others = [t for t in trials if t.number not in best_numbers]
        front = sorted((t for t in trials if t.number in best_numbers),
                       key=lambda t: t.values[0])
        ax.plot([t.values[0] for t in others], [t.values[1] for t in others], 'o',
                color='0.65', label='other trials')
        ax.plot([t.values[0] for t in front], [t.values[1] for t in front], 'o-',
                color='tab:red', label='Pareto front')
        for t in front:
            ax.annotate(f'#{t.number}', (t.values[0], t.values[1]),
                        textcoords='offset points', xytext=(4, 4), fontsize=8)
        ax.set_xlabel(_axis_label(metrics[0], study.directions[0]))
        ax.set_ylabel(_axis_label(metrics[1], study.directions[1]))
        ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title(f'study {study.study_name!r}: {len(trials)} completed trials')
    fig.savefig(out_file, dpi=100, bbox_inches='tight')
    plt.close(fig)
    return out_file


def report_search(study, cfg, out_dir=None, cfg_options=None, config_file=None):
    """Prints the best trial(s), writes ``best.json`` and the plot.

    ``best.json`` lists per Pareto trial its metrics, sampled values, work dir and
    the command that reruns it (:func:`rerun_command`).

    Args:
        study (optuna.Study): the study.
        cfg (mmcv.Config): the config holding ``search`` (``cfg.filename`` is the
            config the rerun commands name).
        out_dir (str | None): Default: None (``search.work_dir/<study name>``).
        cfg_options (dict | None): the ``--cfg-options`` the search ran with,
            repeated in the rerun commands. Default: None.
        config_file (str | None): the config file the rerun commands name.
            Default: None (``cfg.filename``; no command when that is None too).

    Returns:
        dict: ``best`` (rows of :func:`best_trials`), ``n_trials`` (completed),
        ``plot`` (path of the PNG), ``table`` (text).
    """
    search = check_search_cfg(cfg)
    metrics = [o['metric'] for o in search.objectives]
    out_dir = out_dir or osp.join(search.work_dir, study.study_name)
    os.makedirs(out_dir, exist_ok=True)
    complete = study.get_trials(deepcopy=False,
                                states=(optuna.trial.TrialState.COMPLETE, ))
    rows = best_trials(study, metrics, config_file or cfg.filename, cfg_options)
    table = format_best(rows, metrics)
    plot = plot_study(study, metrics, osp.join(out_dir, 'pareto.png'))
    summary = dict(study_name=study.study_name, metrics=metrics,
                   n_trials=len(complete), best=rows, plot=plot)
    atomic_write(json.dumps(summary, indent=2), osp.join(out_dir, 'best.json'))
    title = 'Pareto front' if len(metrics) > 1 else 'best trial'
    print(f'{title} of study {study.study_name!r} ({len(complete)} trials):')
    print(table)
    summary['table'] = table
    return summary


__all__ = [
    'best_trials', 'build_sampler', 'build_storage', 'check_search_cfg',
    'format_best', 'load_study', 'online_objective', 'plot_study', 'report_search',
    'rerun_command', 'run_search', 'suggest_overrides', 'trial_config'
]
