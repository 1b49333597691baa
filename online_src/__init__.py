"""online_src: the online runner, its controller and their parts (replay, domain
detector, schedules, module policies; the last three in the registries
``DETECTORS``, ``SCHEDULES``, ``MODULE_POLICIES``).

The runner streams, the controller decides; both know the method only through its
documented calls (``train_step``, ``online_inference``, ``make_reference``)."""
import mmseg_ext  # noqa: F401  (compat fixes and registries first)

from .adaptive_schedule import (HAMLET_LR_POLICIES, LR_POLICIES, AdaptiveSchedule,
                                HamletSchedule, build_schedule)
from .builder import DETECTORS, MODULE_POLICIES, SCHEDULES, build_part, part_class
from .controller import (BUDGET_TRIGGERS, DEPRECATED_RUNNER_KEYS, Budget, Decision,
                         OnlineController, build_module_policy, resolve_controller_cfg)
from .domain_detector import (SIGNALS, DomainDetector, HamletDomainDetector,
                              build_domain_detector)
from .online_runner import STORM_ORDER, OnlineRunner, check_domain_order, unwrap_batch
from .progress_hook import ProgressBarHook
from .replay_buffer import BUFFER_POLICIES, ReplayBuffer, SourceStream, SourceSubset
from .rng import get_rng_state, seeded, set_rng_state
from .timing import StreamTimer
from .training_policy import (POLICY_ARGUMENTS, FixedPolicy, MADPolicy, RandomPolicy,
                              SampledMADPolicy, build_training_policy)

__all__ = ['LR_POLICIES', 'HAMLET_LR_POLICIES', 'SCHEDULES', 'AdaptiveSchedule',
           'HamletSchedule', 'build_schedule', 'MODULE_POLICIES', 'build_part',
           'part_class', 'SIGNALS', 'BUDGET_TRIGGERS', 'DEPRECATED_RUNNER_KEYS',
           'Budget', 'Decision', 'OnlineController', 'build_module_policy',
           'resolve_controller_cfg', 'DETECTORS', 'DomainDetector',
           'HamletDomainDetector', 'build_domain_detector', 'STORM_ORDER',
           'OnlineRunner', 'ProgressBarHook', 'check_domain_order', 'unwrap_batch',
           'BUFFER_POLICIES', 'ReplayBuffer', 'SourceStream', 'SourceSubset',
           'get_rng_state', 'seeded', 'set_rng_state', 'StreamTimer',
           'POLICY_ARGUMENTS', 'FixedPolicy', 'MADPolicy', 'RandomPolicy',
           'SampledMADPolicy', 'build_training_policy']
