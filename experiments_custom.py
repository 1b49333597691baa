"""Custom experiment ids (``run_experiments.py --exp N --custom 1``).

The same machinery as ``experiments.py`` over the lists of ``config_custom.py``
(CPU-sized ProcCity settings by default); ``--custom 1`` is recorded in each
generated config as ``custom=True``.

| id | compares |
|----|----------|
| 100 | the `make demo` methods on ProcCity: source-only, AdaBN, TENT, published DACS, DACS with stream BatchNorm statistics |
| 101 | DACS full vs HAMLET budget vs budget+MAD on ProcCity |
| 102 | DACS learning rates of ``config_custom.LEARNING_RATES`` |
"""
import config_custom
import experiments

__all__ = ['generate_experiment_cfgs', 'EXPERIMENTS']

EXPERIMENTS = {
    100: dict(dataset=['proccity_storm'], method=['source', 'adabn', 'tent', 'dacs',
                                                   'dacs_adabn']),
    101: dict(dataset=['proccity_storm'], method=['dacs'],
              variant=['full', 'budget', 'budget_mad']),
    102: dict(dataset=['proccity_storm'], method=['dacs'], lr='LEARNING_RATES'),
}


def generate_experiment_cfgs(exp_id, lists=config_custom):
    """The configs of custom experiment ``exp_id`` (table in the module docstring)."""
    return experiments.generate_experiment_cfgs(exp_id, lists, EXPERIMENTS)
