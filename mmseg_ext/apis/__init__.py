"""Library functions below the run level: config loading and checks, source
training, distributed set-up, launch scripts, parameter counts, result analysis.

The online run-level functions (``run_online``, ``train_online``, the demo, the
genetic search and the step profiler) depend on :mod:`online_src` and live in
:mod:`online_src.apis`, above both packages (``online_src`` depends on
``mmseg_ext``, never the reverse).
"""
from .analysis import load_results_csv, pseudo_label_quality, stream_curve
from .config import check_data_roots, check_section_keys, config_hash, is_online_cfg, load_config
from .dist import CPUDistributedDataParallel, init_dist_env
from .launch import write_sbatch_scripts
from .param_count import count_from_config, count_parameters, human_format, param_table
from .test import evaluate_checkpoint
from .train import freeze_encoder, init_launcher, train_segmentor, train_source

__all__ = ['load_config', 'is_online_cfg', 'config_hash', 'check_section_keys',
           'check_data_roots', 'freeze_encoder', 'init_launcher', 'train_segmentor',
           'train_source', 'load_results_csv', 'pseudo_label_quality', 'stream_curve',
           'CPUDistributedDataParallel', 'init_dist_env', 'write_sbatch_scripts',
           'count_from_config', 'count_parameters', 'human_format', 'param_table',
           'evaluate_checkpoint']
