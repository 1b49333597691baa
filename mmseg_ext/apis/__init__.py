from .config import load_config
from .analysis import load_results_csv, pseudo_label_quality, stream_curve
from .dist import CPUDistributedDataParallel, init_dist_env
from .launch import write_sbatch_scripts
from .online import run_online, train_online
from .param_count import count_from_config, count_parameters, human_format, param_table
from .profile import format_profiles, profile_config, profile_steps
from .search import report_search, run_search
from .test import evaluate_checkpoint
from .train import freeze_encoder, init_launcher, train_segmentor, train_source

__all__ = ['load_config', 'freeze_encoder', 'init_launcher', 'run_online', 'train_online',
           'train_segmentor', 'train_source', 'load_results_csv',
           'pseudo_label_quality', 'stream_curve', 'CPUDistributedDataParallel',
           'init_dist_env', 'write_sbatch_scripts', 'format_profiles', 'profile_config',
           'profile_steps', 'report_search', 'run_search', 'count_from_config',
           'count_parameters', 'human_format', 'param_table', 'evaluate_checkpoint']
