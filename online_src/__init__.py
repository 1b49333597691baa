"""online_src: the online runner and its parts (replay, domain detector, policies).

It knows the model only through ``train_step``/``online_inference``-style calls."""
import mmseg_ext  # noqa: F401  (compat fixes and registries first)

from .adaptive_schedule import LR_POLICIES, AdaptiveSchedule
from .domain_detector import DomainDetector
from .online_runner import STORM_ORDER, OnlineRunner, check_domain_order, unwrap_batch
from .progress_hook import ProgressBarHook
from .replay_buffer import ReplayBuffer, SourceStream
from .rng import get_rng_state, seeded, set_rng_state
from .timing import StreamTimer
from .training_policy import (TRAINING_POLICIES, FixedPolicy, MADPolicy, RandomPolicy,
                              build_training_policy)

__all__ = ['LR_POLICIES', 'AdaptiveSchedule', 'DomainDetector', 'STORM_ORDER',
           'OnlineRunner', 'ProgressBarHook', 'check_domain_order', 'unwrap_batch', 'ReplayBuffer',
           'SourceStream', 'get_rng_state', 'seeded', 'set_rng_state', 'StreamTimer',
           'TRAINING_POLICIES', 'FixedPolicy', 'MADPolicy', 'RandomPolicy',
           'build_training_policy']
