"""Experiment ids -> lists of configs (``_base_`` files plus overrides).

``run_experiments.py --exp N`` calls :func:`generate_experiment_cfgs` (or the one of
``experiments_custom.py`` with ``--custom 1``), then writes, names and trains the
configs (:mod:`online_src.apis.sweep`). The lists crossed come from
``sweep_lists.py``. The run-name parts a resolved key decides (rare-class sampling,
the pseudo-label crop) are read from the resolved config by the sweep
(:func:`online_src.apis.sweep.resolved_name_parts`); the parts given here are labels.

| id | compares |
|----|----------|
| 1 | methods on the ProcCity storm, MiT-B0: source-only, AdaBN, TENT, DACS, DACS+AdaBN, DACS+TENT, CoTTA |
| 2 | HAMLET parts for DACS on the ProcCity storm: full, budget, MAD, budget+MAD |
| 3 | seeds 0,1,2 of source-only / TENT / DACS on the ProcCity storm |
| 4 | learning rates of DACS on the ProcCity storm |
| 5 | methods on Cityscapes -> rain storm (OnDA protocol), MiT-B0 |
| 6 | methods on Cityscapes -> ACDC (CoTTA protocol: every method with CoTTA's Adam 7.5e-6, no weight decay, `_base_/schedules/adam_cotta.py`), MiT-B0 |
| 7 | backbones MiT-B0/B1/B1+adapter for DACS on the Cityscapes storm |
"""
import itertools

import sweep_lists as default_lists

__all__ = ['experiment_cfg', 'generate_experiment_cfgs', 'source_checkpoint',
           'EXPERIMENTS']


def _merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = v
    return dst


def experiment_cfg(dataset='proccity_storm', model='mitb0', method='dacs',
                   variant='full', seed=0, lr=None, lists=default_lists, **overrides):
    """One run's config dict: ``_base_`` files, overrides and ``name_parts``.

    Args:
        dataset, model, method, variant (str): keys of ``lists.DATASETS``,
            ``MODELS``, ``METHODS``, ``ONLINE_VARIANTS``.
        seed (int): Default: 0.
        lr (float | None): optimizer learning rate; None keeps the schedule's.
        lists (module): where the lists come from. Default: ``sweep_lists``.
        **overrides: further config keys (merged last).
    """
    for what, table, key in (('dataset', lists.DATASETS, dataset),
                             ('model', lists.MODELS, model),
                             ('method', lists.METHODS, method),
                             ('variant', lists.ONLINE_VARIANTS, variant)):
        if key not in table:
            raise KeyError(f'unknown {what} {key!r}; choose from {sorted(table)}')
    d, m, u, v = (lists.DATASETS[dataset], lists.MODELS[model], lists.METHODS[method],
                  lists.ONLINE_VARIANTS[variant])
    cfg = dict(_base_=['configs/_base_/default_runtime.py'] + m['bases'] + d['bases'] +
               u['bases'] + list(d.get('schedule', lists.SCHEDULE)) + [v['base']])
    runner = dict(frames_per_domain=lists.FRAMES_PER_DOMAIN)
    _merge(runner, d.get('runner', {}))
    _merge(runner, u.get('runner', {}))
    load_from, recipe = source_checkpoint(d, m)
    cfg.update(seed=seed, load_from=load_from, load_from_recipe=recipe, runner=runner)
    if v.get('model'):
        cfg['model'] = dict(v['model'])
    if lr is not None:
        cfg['optimizer'] = dict(lr=lr)
    _merge(cfg, overrides)
    uda = method if variant == 'full' else f'{method}-{variant}'
    cfg['name_parts'] = dict(
        src=d['src'], tgt=d['tgt'], uda=uda.replace('_', '-'), arch=m['arch'],
        backbone=m['backbone'],
        schedule='online' if lr is None else f'online-lr{lr:g}')
    return cfg


def source_checkpoint(dataset, model):
    """The source model a stream starts from and the recipe that makes it.

    Args:
        dataset (dict): a ``DATASETS`` entry (``source_checkpoint`` and
            ``source_recipe`` may name ``{model}``, ``{b}``, ``{checkpoint}``).
        model (dict): a ``MODELS`` entry (``source_model``, e.g. ``'mit-b0'``).

    Returns:
        tuple[str, str | None]: the checkpoint path and the recipe.
    """
    name = model['source_model']
    fields = dict(model=name, b=name.rsplit('-b', 1)[-1])
    path = dataset['source_checkpoint'].format(**fields)
    recipe = dataset.get('source_recipe')
    return path, recipe and recipe.format(checkpoint=path, **fields)


def _cross(lists, **axes):
    keys = list(axes)
    return [experiment_cfg(lists=lists, **dict(zip(keys, values)))
            for values in itertools.product(*(axes[k] for k in keys))]


EXPERIMENTS = {
    1: dict(dataset=['proccity_storm'], method=['source', 'adabn', 'tent', 'dacs',
                                                 'dacs_adabn', 'dacs_tent', 'cotta']),
    2: dict(dataset=['proccity_storm'], method=['dacs'],
            variant=['full', 'budget', 'mad', 'budget_mad']),
    3: dict(dataset=['proccity_storm'], method=['source', 'tent', 'dacs'], seed='SEEDS'),
    4: dict(dataset=['proccity_storm'], method=['dacs'], lr='LEARNING_RATES'),
    5: dict(dataset=['cs_storm'], method=['source', 'tent', 'dacs', 'dacs_tent', 'cotta']),
    6: dict(dataset=['cs_acdc'], method=['source', 'tent', 'dacs', 'cotta']),
    7: dict(dataset=['cs_storm'], method=['dacs'], model=['mitb0', 'mitb1',
                                                        'mitb1_adapter']),
}


def generate_experiment_cfgs(exp_id, lists=default_lists, experiments=None):
    """The configs of experiment ``exp_id`` (see the table in the module docstring).

    Args:
        exp_id (int): the experiment id.
        lists (module): the lists crossed. Default: ``sweep_lists``.
        experiments (dict | None): id -> axes (or a function of ``lists`` returning
            the configs). Default: :data:`EXPERIMENTS`.

    Returns:
        list[dict]: config dicts for :func:`online_src.apis.sweep.generate_runs`.
    """
    experiments = EXPERIMENTS if experiments is None else experiments
    if exp_id not in experiments:
        raise KeyError(f'unknown experiment id {exp_id}; known ids: {sorted(experiments)}')
    if callable(experiments[exp_id]):
        return experiments[exp_id](lists)
    axes = {k: (getattr(lists, v) if isinstance(v, str) else v)
            for k, v in experiments[exp_id].items()}
    return _cross(lists, **axes)
