"""The online controller: when and how the method adapts on each frame (HAMLET).

HAMLET (Colomer et al., "To Adapt or Not to Adapt? Real-Time Adaptation for
Semantic Segmentation", ICCV 2023, arXiv:2307.15063) decides per frame whether to
train, with which learning rate and ClassMix ratio, and from which encoder module.
:class:`OnlineController` holds those parts, each configured in its own entry of
the runner's ``controller`` section (``configs/_base_/online/online_runner.py``):

* ``budget`` (:class:`Budget`): frames adapted after each trigger;
* ``detector`` (a type of :data:`~online_src.builder.DETECTORS`): the
  domain-change detector and its signal;
* ``schedule`` (a type of :data:`~online_src.builder.SCHEDULES`): the reaction
  to a change (learning rate, mix ratio, HAMLET's own budget);
* ``module_policy`` (:func:`build_module_policy`, a type of
  :data:`~online_src.builder.MODULE_POLICIES`): modular training (MAD).

The three registries take parts of one's own (``@DETECTORS.register_module()``).

The runner streams and asks: :meth:`OnlineController.decide` before the training
step (adapt?, module, mix ratio; writes the frame's learning rate), then
:meth:`OnlineController.observe` after it (the method's ``policy_loss``, the step
time, the detector signal of detectors fed after the step).
"""
import difflib
import inspect
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .adaptive_schedule import build_schedule
from .builder import DETECTORS, MODULE_POLICIES, SCHEDULES, part_class
from .domain_detector import SIGNALS, build_domain_detector
from .training_policy import build_training_policy

__all__ = ['OnlineController', 'Budget', 'Decision', 'build_module_policy',
           'resolve_controller_cfg', 'DEPRECATED_RUNNER_KEYS', 'BUDGET_TRIGGERS']

BUDGET_TRIGGERS = ('detector', 'domain')

# The runner's flat keys before the controller section, accepted with a warning:
# old key -> (section of runner.controller, key in it; None: the whole section).
DEPRECATED_RUNNER_KEYS = {
    'budget': ('budget', 'frames'),
    'budget_trigger': ('budget', 'trigger'),
    'domain_detector': ('detector', None),
    'adaptive_schedule': ('schedule', None),
    'modular_training': ('module_policy', 'enabled'),
    'training_policy': ('module_policy', 'type'),
    'total_modules': ('module_policy', 'total_modules'),
    'fixed_module': ('module_policy', 'fixed_module'),
    'alpha': ('module_policy', 'decay'),
    'temperature': ('module_policy', 'temperature'),
    'mad_time_update': ('module_policy', 'time_update'),
    'mad_module_speeds': ('module_policy', 'module_speeds'),
    'mad_loss': ('module_policy', 'loss'),
}


def resolve_controller_cfg(controller=None, deprecated=None):
    """The ``runner.controller`` section with the old flat runner keys moved in.

    Args:
        controller (dict | None): ``runner.controller``.
        deprecated (dict | None): old flat runner keys (:data:`DEPRECATED_RUNNER_KEYS`);
            each is moved to its place with a ``FutureWarning`` and wins over the
            section's value. A whole-section key (``domain_detector``,
            ``adaptive_schedule``) updates the section, or replaces it when it
            holds ``_delete_=True`` (as mmcv's config merge would have done).

    Returns:
        dict: the section, one dict per part.

    Raises:
        TypeError: naming a key that is neither a runner key nor an old one.
    """
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in (controller or {}).items()}
    unknown = sorted(set(deprecated or {}) - set(DEPRECATED_RUNNER_KEYS))
    if unknown:
        raise TypeError(f'OnlineRunner has no key {unknown}')
    for old, value in (deprecated or {}).items():
        section, key = DEPRECATED_RUNNER_KEYS[old]
        new = f'runner.controller.{section}' + ('' if key is None else f'.{key}')
        warnings.warn(f'runner.{old} is deprecated: use {new}', FutureWarning,
                      stacklevel=3)
        part = out.setdefault(section, {})
        if key is not None:
            part[key] = value
            continue
        value = dict(value or {})
        if value.pop('_delete_', False):
            part.clear()
        part.update(value)
    return out


def check_section(name, section, func, extra=()):
    """Raises a ``TypeError`` naming each key of ``runner.controller.<name>`` that
    ``func`` does not take, with the closest accepted key."""
    accepted = [p for p in inspect.signature(func).parameters if p not in ('self', 'seed')]
    accepted += list(extra)
    unknown = [k for k in section if k not in accepted]
    # the section's keys under their old runner names (alpha -> decay)
    renamed = {old: key for old, (part, key) in DEPRECATED_RUNNER_KEYS.items()
               if part == name and key is not None}
    if unknown:
        hints = [f'{k!r}' + (f' (did you mean {c[0]!r}?)' if c else '')
                 for k in unknown for c in [[renamed[k]] if k in renamed else
                                            difflib.get_close_matches(k, accepted, n=1)]]
        raise TypeError(f'runner.controller.{name} has no key {", ".join(hints)}; it '
                        f'takes {sorted(accepted)}')


@dataclass
class Decision:
    """What the controller decided for one frame.

    Attributes:
        adapt (bool): run the method's ``train_step`` on the frame.
        module (int | None): ``train_from_module`` (modular training), or None.
        mix_ratio (float | None): ``mix_ratio`` for the step, or None.
        lr_scale (float | None): the factor written on the learning rate.
    """
    adapt: bool
    module: Optional[int] = None
    mix_ratio: Optional[float] = None
    lr_scale: Optional[float] = None

    @property
    def step_kwargs(self):
        """dict: the keyword arguments of ``train_step`` this decision sets."""
        kwargs = {}
        if self.module is not None:
            kwargs['train_from_module'] = self.module
        if self.mix_ratio is not None:
            kwargs['mix_ratio'] = self.mix_ratio
        return kwargs


class Budget:
    """HAMLET's training budget: ``frames`` adapted frames after each trigger.

    Args:
        frames (int | None): frames adapted after each trigger, inference only
            afterwards; None adapts on every frame. Default: None.
        trigger (str): what restarts the budget: 'detector' (a detected change;
            needs the detector) or 'domain' (the start of each visit, an oracle).
            The stream start counts as a trigger. Default: 'detector'.
    """

    def __init__(self, frames=None, trigger='detector'):
        if frames is not None and int(frames) < 0:
            raise ValueError(f'controller.budget.frames must be >= 0 or None, got {frames}')
        if trigger not in BUDGET_TRIGGERS:
            raise ValueError(f'controller.budget.trigger must be one of '
                             f'{BUDGET_TRIGGERS}, got {trigger!r}')
        self.frames = None if frames is None else int(frames)
        self.trigger = trigger
        self.left = self.frames

    def allows(self):
        """bool: the current frame is inside the budget."""
        return self.left is None or self.left > 0

    def restart(self, trigger):
        """Restarts the budget when ``trigger`` is this budget's."""
        if self.frames is not None and trigger == self.trigger:
            self.left = self.frames

    def spend(self):
        """One adapted frame."""
        if self.left is not None:
            self.left -= 1


def build_module_policy(enabled=False, type='mad', loss=None, total_modules=4,
                        fixed_module=1, decay=0.1, temperature=1.75, time_update=True,
                        module_speeds=(4.21, 4.83, 5.11, 5.73), seed=0):
    """Builds the modular-training policy (HAMLET's MAD and baselines).

    Args:
        enabled (bool): pass ``train_from_module`` chosen by the policy to the
            method. Default: False.
        type (str): a name in :data:`~online_src.builder.MODULE_POLICIES`: 'mad'
            (HAMLET), 'mad_sampled' (the project's), 'random' or 'fixed'
            (:mod:`online_src.training_policy`), or one of your own, built with
            :data:`~online_src.training_policy.POLICY_ARGUMENTS`. Default: 'mad'.
        loss (str | None): not the policy's: the loss it learns from, read by the
            controller (see :class:`OnlineController`). Default: None.
        total_modules (int): encoder modules. Default: 4.
        fixed_module (int): the module of the 'fixed' policy. Default: 1.
        decay (float): how fast the gain histogram forgets: each update keeps
            ``1 - decay`` of it and adds ``decay`` x the new gain (HAMLET's
            ``alpha``). Default: 0.1.
        temperature (float): 'mad': of the module weights; 'mad_sampled': of the
            draw. Default: 1.75.
        time_update (bool): weigh gains by module cost. Default: True.
        module_speeds (Sequence[float]): 'mad' per-module scores of the weights.
            Default: (4.21, 4.83, 5.11, 5.73).
        seed (int): seed of the policy's generator (the runner's). Default: 0.

    Returns:
        The policy, or None when not ``enabled``.
    """
    part_class(MODULE_POLICIES, 'module_policy', type)  # a typo fails when disabled too
    if not enabled:
        return None
    return build_training_policy(type, total_modules=total_modules, module=fixed_module,
                                 alpha=decay, temperature=temperature,
                                 time_update=time_update, module_speeds=module_speeds,
                                 seed=seed)


class OnlineController:
    """Decides, frame by frame, whether and how the method adapts (HAMLET's parts).

    Per frame the runner calls :meth:`decide` (after inference and scoring) and
    :meth:`observe` (after the training step, also when the frame did not adapt).
    A detector is fed before the decision (the frame that shows the change adapts;
    'relative'), or after the step when its class sets ``feed_after_step``
    (HAMLET's: a change counts from the next frame). A change restarts a
    detector-triggered budget and tells the schedule.

    Args:
        budget (dict | None): :class:`Budget` arguments (``frames``, ``trigger``).
        detector (dict | None): ``enabled`` (bool, default False), ``type`` (a name
            in :data:`~online_src.builder.DETECTORS`: 'hamlet',
            :class:`HamletDomainDetector`, default; 'relative':
            :class:`DomainDetector`) plus the detector's arguments. Its
            'reference_loss' signal comes from the method
            (``make_reference(module)``, see :meth:`before_stream`).
        schedule (dict | None): ``type`` (a name in
            :data:`~online_src.builder.SCHEDULES`: 'boost', :class:`AdaptiveSchedule`,
            default; 'hamlet': :class:`HamletSchedule`, HAMLET's budget, lr and mix
            ratio, needs the detector: ``owns_budget``) plus the schedule's arguments.
        module_policy (dict | None): :func:`build_module_policy` arguments. Its
            ``loss`` names the ``log_vars`` entry the policy learns from (HAMLET:
            'mix.decode.loss_ce', DACS's mixed-image loss); None takes the step's
            ``policy_loss`` (the method's sum of its loss terms).
        seed (int): seed of the policy (the runner's). Default: 0.
    """

    def __init__(self, budget=None, detector=None, schedule=None, module_policy=None,
                 seed=0):
        budget, detector, schedule, module_policy = (
            dict(c or {}) for c in (budget, detector, schedule, module_policy))
        check_section('budget', budget, Budget)
        check_section('detector', detector,
                      part_class(DETECTORS, 'detector', detector.get('type', 'hamlet')),
                      extra=('enabled', 'type'))
        check_section('schedule', schedule,
                      part_class(SCHEDULES, 'schedule', schedule.get('type', 'boost')),
                      extra=('type', ))
        check_section('module_policy', module_policy, build_module_policy)
        self.budget = Budget(**budget)
        detector_cfg = dict(detector)
        detector_on = bool(detector_cfg.pop('enabled', False))
        if self.budget.frames is not None and self.budget.trigger == 'detector' \
                and not detector_on:
            raise ValueError("controller.budget.trigger='detector' needs "
                             "controller.detector.enabled=True (or use "
                             "controller.budget.trigger='domain')")
        self.detector = build_domain_detector(**detector_cfg) if detector_on else None
        if detector_on and getattr(self.detector, 'signal', None) not in SIGNALS:
            raise ValueError(f'controller.detector type {detector_cfg.get("type", "hamlet")!r} '
                             f'has signal {getattr(self.detector, "signal", None)!r}; the '
                             f'controller feeds one of {SIGNALS}')
        self.schedule = build_schedule(**schedule)
        if getattr(self.schedule, 'owns_budget', False):
            kind = schedule.get('type', 'boost')
            if not detector_on:
                raise ValueError(f"controller.schedule type={kind!r} needs "
                                 "controller.detector.enabled=True (its budget starts "
                                 "at detected changes)")
            if self.budget.frames is not None:
                raise ValueError(f"controller.schedule type={kind!r} sets its own budget; "
                                 "set controller.budget.frames=None")
        self.policy_loss_key = module_policy.get('loss')
        self.policy = build_module_policy(**module_policy, seed=seed)
        # HAMLET's detector sees a frame after its step; the project's before it.
        self.detect_after = bool(getattr(self.detector, 'feed_after_step', False))
        self.reference = None
        self.log_vars = {}  # values of the current frame, for the log
        self.changes = []  # detector outputs of the changes of the current frame

    @property
    def signal(self):
        """str | None: the detector's signal ('entropy', 'reference_loss')."""
        return self.detector.signal if self.detector is not None else None

    def before_stream(self, method):
        """Takes the detector's reference signal from the method.

        Args:
            method: the adaptation method; with the 'reference_loss' signal its
                ``make_reference(module)`` gives an object with ``loss(img,
                img_metas, pred) -> float``, ``state_dict()`` and
                ``load_state_dict()`` (a frozen copy of the source model).
        """
        if self.signal != 'reference_loss':
            return
        if not callable(getattr(method, 'make_reference', None)):
            raise TypeError(f"controller.detector.signal='reference_loss' needs a method "
                            f"with make_reference(module); {type(method).__name__} has "
                            f"none (use signal='entropy')")
        self.reference = method.make_reference(self.detector.reference_module)

    def start_domain(self):
        """A new visit of a domain starts (restarts a 'domain'-triggered budget)."""
        self.budget.restart('domain')

    def decide(self, frame, optimizer, adapt=True):
        """Decides whether and how the frame adapts; writes its learning rate.

        Args:
            frame (dict): ``img``, ``img_metas`` (the frame on the device) and
                ``inference`` (what the method's ``online_inference`` returned).
            optimizer (Optimizer): gets the frame's learning rate when it adapts.
            adapt (bool): the runner adapts at all (False: inference only).

        Returns:
            Decision
        """
        self.log_vars = {}
        self.changes = []
        if self.detector is not None and not self.detect_after:
            self._detect(frame)
        if not (adapt and self.schedule.training() and self.budget.allows()):
            return Decision(False)
        module = self.policy.choose() if self.policy is not None else None
        mix = self.schedule.current_mix_ratio()
        scale = self.schedule.apply(optimizer)
        self.log_vars['lr_scale'] = scale
        return Decision(True, module, mix, scale)

    def observe(self, frame, decision, outputs=None, step_seconds=0.0):
        """Learns from the frame once its step (if any) is done.

        Args:
            frame (dict): as for :meth:`decide`.
            decision (Decision): what :meth:`decide` returned for the frame.
            outputs (dict | None): the method's ``train_step`` output
                (``policy_loss``, ``log_vars``); None when it did not adapt.
            step_seconds (float): duration of the step.
        """
        if decision.adapt:
            if self.policy is not None:
                loss = self.policy_loss(outputs)
                if np.isfinite(loss):
                    self.policy.update(decision.module, loss, step_seconds)
                self.log_vars['module'] = decision.module
                for m, h in enumerate(self.policy.histogram(), start=1):
                    self.log_vars[f'mad_hist.{m}'] = h
            self.budget.spend()
        self.schedule.step()
        if self.detector is not None and self.detect_after:
            self._detect(frame)

    def policy_loss(self, outputs):
        """float: the loss the module policy learns from (see ``module_policy.loss``)."""
        key = self.policy_loss_key
        if key is None:
            if 'policy_loss' not in outputs:
                raise KeyError('controller.module_policy.loss=None takes the step\'s '
                               '`policy_loss`, which the method\'s train_step did not '
                               'return; name a log_vars entry instead')
            return float(outputs['policy_loss'])
        log_vars = outputs.get('log_vars', {})
        if key not in log_vars:
            raise KeyError(f'controller.module_policy.loss {key!r} is not among the '
                           f'logged values of the step: {sorted(log_vars)}')
        return float(log_vars[key])

    def _detect(self, frame):
        """Feeds the frame's signal to the detector; reacts to a change."""
        if self.detector.signal == 'entropy':
            value = float(frame['inference']['entropy'].float().mean())
        else:
            value = self.reference.loss(frame['img'], frame['img_metas'],
                                        frame['inference']['pred'])
        det = self.detector.update(value)
        self.log_vars['signal'] = value
        if det['changed']:
            self.changes.append(det)
            self.schedule.on_change(det)
            self.budget.restart('detector')

    def state_dict(self):
        """dict: plain-data state for checkpoints (the reference's weights too)."""
        state = dict(budget_left=self.budget.left, schedule=self.schedule.state_dict())
        if self.detector is not None:
            state['detector'] = self.detector.state_dict()
        if self.policy is not None:
            state['policy'] = self.policy.state_dict()
        if self.reference is not None:
            state['reference'] = self.reference.state_dict()
        return state

    def load_state_dict(self, state):
        """Restores :meth:`state_dict` (after :meth:`before_stream`)."""
        self.budget.left = state['budget_left']
        self.schedule.load_state_dict(state['schedule'])
        if self.detector is not None and 'detector' in state:
            self.detector.load_state_dict(state['detector'])
        if self.policy is not None and 'policy' in state:
            self.policy.load_state_dict(state['policy'])
        if self.reference is not None and 'reference' in state:
            self.reference.load_state_dict(state['reference'])
