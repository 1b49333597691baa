"""The lists of custom sweeps (read by experiments_custom.py, ``--custom 1``).

It starts from the published lists of ``sweep_lists.py`` and changes only what a
one-off study needs; edit it freely without touching the published sweeps.
Defaults here are the CPU-sized ProcCity demo setting.
"""
from sweep_lists import DATASETS, METHODS, MODELS, ONLINE_VARIANTS, SCHEDULE  # noqa: F401

SEEDS = [0]
LEARNING_RATES = [6e-5, 3e-4]
# Frames per visit of a domain (None: each domain set once).
FRAMES_PER_DOMAIN = 40
# Experiment 100: the runs of this demo config, named as ProcCity storm / MiT-B0 runs.
DEMO = dict(config='configs/online/demo.py', dataset='proccity_storm', model='mitb0')
