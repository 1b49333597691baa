"""Custom experiment ids (``run_experiments.py --exp N --custom 1``).

The same machinery as ``experiments.py`` over the lists of ``sweep_lists_custom.py``
(CPU-sized ProcCity settings by default); ``--custom 1`` is recorded in each
generated config as ``custom=True``.

| id | compares |
|----|----------|
| 100 | the `make demo` runs: each online config of ``configs/online/demo.py`` (``demo.runs``) as it is |
| 101 | DACS full vs HAMLET budget vs budget+MAD on ProcCity |
| 102 | DACS learning rates of ``sweep_lists_custom.LEARNING_RATES`` |

Experiment 100 takes each demo run's config file as its only ``_base_``, so its
resolved configs are the demo's (names and work dirs aside) whatever the demo's
files say.
"""
import os.path as osp

from mmcv.utils import Config

import sweep_lists_custom
import experiments

__all__ = ['generate_experiment_cfgs', 'demo_experiment_cfgs', 'EXPERIMENTS']

REPO_ROOT = osp.dirname(osp.abspath(__file__))


def demo_experiment_cfgs(lists=sweep_lists_custom, root=REPO_ROOT):
    """One config per run of the demo (``lists.DEMO['config']``, key ``demo.runs``).

    Args:
        lists (module): gives ``DEMO`` (the demo config file, and the ``DATASETS``
            and ``MODELS`` entries naming its runs). Default: ``sweep_lists_custom``.
        root (str): the repository root. Default: this checkout.

    Returns:
        list[dict]: ``_base_`` (the run's config file) and ``name_parts``.
    """
    demo = Config.fromfile(osp.join(root, lists.DEMO['config'])).demo
    d, m = lists.DATASETS[lists.DEMO['dataset']], lists.MODELS[lists.DEMO['model']]
    return [dict(_base_=[path], name_parts=dict(
        src=d['src'], tgt=d['tgt'], uda=method.replace('_', '-'), arch=m['arch'],
        backbone=m['backbone'], schedule='online'))
        for method, path in demo.runs.items()]


EXPERIMENTS = {
    100: demo_experiment_cfgs,
    101: dict(dataset=['proccity_storm'], method=['dacs'],
              variant=['full', 'budget', 'budget_mad']),
    102: dict(dataset=['proccity_storm'], method=['dacs'], lr='LEARNING_RATES'),
}


def generate_experiment_cfgs(exp_id, lists=sweep_lists_custom):
    """The configs of custom experiment ``exp_id`` (table in the module docstring)."""
    return experiments.generate_experiment_cfgs(exp_id, lists, EXPERIMENTS)
