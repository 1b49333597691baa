"""online_src: the online runner and its parts (replay, domain detector, policies).

It knows the model only through ``train_step``/``online_inference``-style calls."""
import mmseg_ext  # noqa: F401  (compat fixes and registries first)

from .adaptive_schedule import (HAMLET_LR_POLICIES, LR_POLICIES, SCHEDULES,
                                AdaptiveSchedule, HamletSchedule, build_schedule)
from .domain_detector import (DETECTORS, DomainDetector, HamletDomainDetector,
                              build_domain_detector)
from .online_runner import STORM_ORDER, OnlineRunner, check_domain_order, unwrap_batch
from .progress_hook import ProgressBarHook
from .replay_buffer import BUFFER_POLICIES, ReplayBuffer, SourceStream, SourceSubset
from .rng import get_rng_state, seeded, set_rng_state
from .timing import StreamTimer
from .training_policy import (TRAINING_POLICIES, FixedPolicy, MADPolicy, RandomPolicy,
                              SampledMADPolicy, build_training_policy)

__all__ = ['LR_POLICIES', 'HAMLET_LR_POLICIES', 'SCHEDULES', 'AdaptiveSchedule',
           'HamletSchedule', 'build_schedule', 'DETECTORS', 'DomainDetector',
           'HamletDomainDetector', 'build_domain_detector', 'STORM_ORDER',
           'OnlineRunner', 'ProgressBarHook', 'check_domain_order', 'unwrap_batch',
           'BUFFER_POLICIES', 'ReplayBuffer', 'SourceStream', 'SourceSubset',
           'get_rng_state', 'seeded', 'set_rng_state', 'StreamTimer',
           'TRAINING_POLICIES', 'FixedPolicy', 'MADPolicy', 'RandomPolicy',
           'SampledMADPolicy', 'build_training_policy']
