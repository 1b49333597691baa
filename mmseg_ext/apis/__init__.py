"""Library functions below the run level: config loading, writing and checks
(:mod:`.config`), source training (:mod:`.train`), checkpoint evaluation
(:mod:`.test`), distributed set-up (:mod:`.dist`), work-dir safety
(:mod:`.workdir`), smoke-test sizes (:mod:`.tiny`), parameter counts
(:mod:`.param_count`) and pseudo-label analysis (:mod:`.analysis`).

The run-level functions (online runs, sweeps and their SLURM scripts, the demo,
the genetic search and the step profiler) depend on :mod:`online_src` and live in
:mod:`online_src.apis`, above both packages (``online_src`` depends on
``mmseg_ext``, never the reverse). A run's results are read by
:mod:`mmseg_ext.core.evaluation.results`.
"""
from .analysis import pseudo_label_quality
from .config import (check_data_roots, check_section_keys, config_hash, is_online_cfg,
                     load_config, write_config)
from .dist import CPUDistributedDataParallel, init_dist_env
from .param_count import count_from_config, count_parameters, human_format, param_table
from .test import evaluate_checkpoint
from .train import freeze_encoder, init_launcher, train_segmentor, train_source

__all__ = ['load_config', 'is_online_cfg', 'config_hash', 'check_section_keys',
           'check_data_roots', 'freeze_encoder', 'init_launcher', 'train_segmentor',
           'train_source', 'pseudo_label_quality', 'write_config',
           'CPUDistributedDataParallel', 'init_dist_env',
           'count_from_config', 'count_parameters', 'human_format', 'param_table',
           'evaluate_checkpoint']
