"""Reactions to a detected domain change: budget, learning rate, mix ratio (HAMLET).

HAMLET (Colomer et al., ICCV 2023, arXiv:2307.15063, Sec. 3.3) reacts to a
detected shift with a training budget, a learning rate and a ClassMix ratio that
depend on the detected domain. Two schedules (``runner.controller.schedule.type``):

* :class:`HamletSchedule` (``'hamlet'``): the published one, as
  ``online_src/domain_indicator_orchestrator.py``, ``online_runner.py`` and
  ``lr/lr_policies.py`` of MarcBotet/hamlet: a budget of iterations scaled by
  the jump, a learning rate interpolated between the source and far domains that
  decays linearly to 0 over the budget, a mix ratio interpolated over the domain.
* :class:`AdaptiveSchedule` (``'boost'``): the project's: no budget of its own
  (the controller's ``budget``), the learning rate boosted by ``1 + lr_gain * |relative
  jump|`` and decayed back to 1 over ``decay_frames``, an optional mix ratio decaying
  the same way; 'constant' keeps the optimizer's learning rate and passes no mix
  ratio (plain online adaptation, the schema default).

``warmup_frames`` multiplies either policy by a linear ramp over the first adapted
frames of the stream (as the linear warm-up of SegFormer/DAFormer training): a
freshly built Adam takes full-size sign steps until its second-moment estimate
has seen a few gradients, which on batch-1 frames costs accuracy for nothing.
"""
import numpy as np

from .builder import SCHEDULES, build_part

__all__ = ['AdaptiveSchedule', 'HamletSchedule', 'build_schedule', 'LR_POLICIES',
           'HAMLET_LR_POLICIES']

LR_POLICIES = ('constant', 'adaptive')
HAMLET_LR_POLICIES = ('adaptive_slope', 'adaptive_init', 'constant')


@SCHEDULES.register_module(name='boost')
class AdaptiveSchedule:
    """The project's schedule: lr scale and mix ratio vs. the frames since a change.

    Registered as ``'boost'`` in :data:`~online_src.builder.SCHEDULES`.

    Args:
        lr_policy (str): 'constant' or 'adaptive'. Default: 'constant'.
        lr_gain (float): scale = 1 + lr_gain * |relative jump| at a change.
            Default: 2.0.
        lr_max_scale (float): upper bound of the scale. Default: 5.0.
        lr_min_scale (float): scale reached at the end of the decay. Default: 1.0.
        decay_frames (int): frames of the linear decay. Default: 100.
        mix_ratio (float | None): mix ratio passed to the method at every step;
            None passes none (the method's own default). Default: None.
        mix_ratio_max (float | None): with 'adaptive', the mix ratio right after a
            change, decaying linearly to ``mix_ratio``. Default: None.
        warmup_frames (int): the scale ramps linearly from ``1 / warmup_frames``
            to 1 over the first ``warmup_frames`` adapted frames; 0: no warm-up.
            Default: 0.
    """

    owns_budget = False  # trains on every frame the controller's budget allows

    def __init__(self, lr_policy='constant', lr_gain=2.0, lr_max_scale=5.0,
                 lr_min_scale=1.0, decay_frames=100, mix_ratio=None,
                 mix_ratio_max=None, warmup_frames=0):
        if lr_policy not in LR_POLICIES:
            raise ValueError(f'unknown lr_policy {lr_policy!r}; expected one of '
                             f'{LR_POLICIES}')
        if int(decay_frames) < 1:
            raise ValueError(f'decay_frames must be >= 1, got {decay_frames}')
        if int(warmup_frames) < 0:
            raise ValueError(f'warmup_frames must be >= 0, got {warmup_frames}')
        if mix_ratio_max is not None and mix_ratio is None:
            raise ValueError('mix_ratio_max needs mix_ratio (the value it decays to)')
        for name, v in (('mix_ratio', mix_ratio), ('mix_ratio_max', mix_ratio_max)):
            if v is not None and not 0.0 <= float(v) <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {v}')
        self.lr_policy = lr_policy
        self.lr_gain = float(lr_gain)
        self.lr_max_scale = float(lr_max_scale)
        self.lr_min_scale = float(lr_min_scale)
        self.decay_frames = int(decay_frames)
        self.mix_ratio = mix_ratio
        self.mix_ratio_max = mix_ratio_max
        self.warmup_frames = int(warmup_frames)
        self.adapted = 0  # adapted frames so far (warm-up clock)
        self.peak = 1.0
        self.since_change = self.decay_frames  # no boost before the first change

    def training(self):
        """bool: this schedule never stops training (the controller's budget does)."""
        return True

    def on_change(self, change):
        """Starts a new decay after a detected change (a detector's ``update``
        output; its ``relative_jump`` sets the boost)."""
        if self.lr_policy == 'adaptive':
            self.peak = min(self.lr_max_scale, max(
                self.lr_min_scale, 1.0 + self.lr_gain * abs(change['relative_jump'])))
            self.since_change = 0

    def _progress(self):
        return min(1.0, self.since_change / self.decay_frames)

    def lr_scale(self):
        """float: factor on every param group's initial learning rate."""
        warmup = 1.0 if self.adapted >= self.warmup_frames \
            else (self.adapted + 1) / self.warmup_frames
        if self.lr_policy == 'constant':
            return warmup
        return warmup * (self.peak + (self.lr_min_scale - self.peak) * self._progress())

    def current_mix_ratio(self):
        """float | None: the mix ratio of the next step (None: pass none)."""
        if self.mix_ratio is None:
            return None
        if self.lr_policy == 'adaptive' and self.mix_ratio_max is not None:
            top, low = float(self.mix_ratio_max), float(self.mix_ratio)
            return top + (low - top) * self._progress()
        return float(self.mix_ratio)

    def apply(self, optimizer):
        """Writes the scaled learning rate of the frame about to be adapted."""
        scale = self.lr_scale()
        self.adapted += 1
        for group in optimizer.param_groups:
            group.setdefault('initial_lr', group['lr'])
            group['lr'] = group['initial_lr'] * scale
        return scale

    def step(self):
        """One frame has passed."""
        self.since_change += 1

    def state_dict(self):
        return dict(peak=self.peak, since_change=self.since_change, adapted=self.adapted)

    def load_state_dict(self, state):
        self.peak = float(state['peak'])
        self.since_change = int(state['since_change'])
        self.adapted = int(state['adapted'])


@SCHEDULES.register_module(name='hamlet')
class HamletSchedule:
    """HAMLET's budget, learning rate and dynamic ClassMix ratio.

    Registered as ``'hamlet'`` in :data:`~online_src.builder.SCHEDULES`. It sets
    its own budget (``owns_budget``): the controller requires the detector and
    ``controller.budget.frames=None``.

    At a change detected with window mean ``v`` (direction ``d``, jump ratio
    ``r = |v - prev| / threshold_up``), with ``interp(v, a, b)`` the linear
    interpolation of ``v`` over ``domain_range`` (clipped) from ``a`` to ``b``:

    * budget: ``n = base_iters * (interp(v, *reduce_training) if d < 0 else 1)``;
      'adaptive_slope' and 'constant' train ``min(int(r * n) + unused, max_iters)``
      frames (``unused``: what was left of the previous budget), 'adaptive_init'
      ``n`` frames. The frame counter restarts at 0 and counts every frame.
      Before the first change nothing is trained (HAMLET starts on its source).
    * learning rate (as a factor on the optimizer's base ``lr``): 'adaptive_slope'
      starts at ``interp(v, 1, lr_far_scale)`` (1 when ``lr_far_scale`` is None)
      and decays linearly to 0 over the budget, ``lr * peak * (1 - i / budget)``
      at the ``i``-th frame since the change; 'adaptive_init' starts at
      ``min(min(2 r, max_lr_scale) + current, max_lr_scale)`` and decays to 0 over
      ``base_iters`` (``current``: the factor of the frame that detected the
      change); 'constant' keeps the optimizer's learning rates (HAMLET's code
      writes ``interp(v, 1, lr_far_scale)`` at the change, but its fixed lr hook
      restores the initial rates at the next frame, before any step uses it).
    * mix ratio (the fraction of source classes ClassMix pastes):
      ``1 - interp(v, *dynamic_mix)``, ``0.5`` before the first change or
      without ``dynamic_mix``: farther domains paste fewer source classes.

    Args:
        lr_policy (str): 'adaptive_slope', 'adaptive_init' or 'constant'.
            Default: 'adaptive_slope'.
        base_iters (int): frames of a budget before scaling. Default: 750.
        max_iters (int): upper bound of a budget. Default: 4450.
        reduce_training (tuple[float, float]): budget factors at the two ends of
            ``domain_range`` after a fall of the signal. Default: (0.25, 0.75).
        domain_range (tuple[float, float]): signal values of the source and the
            farthest domain (HAMLET's ``threshold_src``, ``threshold_max``:
            0.8, 2.55 for Cityscapes; 0.46, 1.85 for SHIFT). Default: (0.8, 2.55).
        dynamic_mix (tuple[float, float] | None): target shares of ClassMix at the
            two ends of ``domain_range``; None keeps the ratio at 0.5.
            Default: (0.5, 0.75).
        lr_far_scale (float | None): learning-rate factor at the far end of
            ``domain_range`` (HAMLET: ``lr_far_domain / lr`` = 4). Default: 4.0.
        max_lr_scale (float): upper bound of the 'adaptive_init' factor
            (HAMLET: ``max_lr / lr`` = 1e-3 / 1.5e-5). Default: 66.67.
        uniform_lr (bool): every param group gets ``lr * factor`` (HAMLET sets all
            groups to one value, dropping a head ``lr_mult``); False scales each
            group's own initial learning rate. Default: True.
    """

    owns_budget = True  # training() is False outside its budget

    def __init__(self, lr_policy='adaptive_slope', base_iters=750, max_iters=4450,
                 reduce_training=(0.25, 0.75), domain_range=(0.8, 2.55),
                 dynamic_mix=(0.5, 0.75), lr_far_scale=4.0, max_lr_scale=1e-3 / 1.5e-5,
                 uniform_lr=True):
        if lr_policy not in HAMLET_LR_POLICIES:
            raise ValueError(f'unknown HAMLET lr_policy {lr_policy!r}; expected one of '
                             f'{HAMLET_LR_POLICIES}')
        if int(base_iters) < 1 or int(max_iters) < 1:
            raise ValueError(f'base_iters and max_iters must be >= 1, got {base_iters}, '
                             f'{max_iters}')
        lo, hi = (float(v) for v in domain_range)
        if not lo < hi:
            raise ValueError(f'domain_range must be (source value, far value) with '
                             f'source < far, got {tuple(domain_range)}')
        self.lr_policy = lr_policy
        self.base_iters = int(base_iters)
        self.max_iters = int(max_iters)
        self.reduce_training = tuple(float(v) for v in reduce_training)
        self.domain_range = (lo, hi)
        self.dynamic_mix = None if dynamic_mix is None else tuple(float(v) for v in dynamic_mix)
        self.lr_far_scale = None if lr_far_scale is None else float(lr_far_scale)
        self.max_lr_scale = float(max_lr_scale)
        self.uniform_lr = bool(uniform_lr)
        self.iters = 0  # frames since the last change
        self.iters_train = 0  # budget (frames trained after the change)
        self.peak = 1.0  # lr factor at the change
        self.decay = None  # frames of the linear decay; None: constant
        self.target_share = self.dynamic_mix[0] if self.dynamic_mix else 0.5

    def interp(self, value, ends):
        """float: ``value`` mapped linearly from ``domain_range`` onto ``ends``."""
        return float(np.interp(value, self.domain_range, ends))

    def on_change(self, change):
        """Sets budget, lr and mix after a change (a detector ``update`` output
        with ``value``, ``direction`` and ``relative_jump``)."""
        value, ratio = change['value'], abs(change['relative_jump'])
        if self.dynamic_mix:
            self.target_share = self.interp(value, self.dynamic_mix)
        iters = self.base_iters * (self.interp(value, self.reduce_training)
                                   if change['direction'] < 0 else 1)
        far = 1.0 if self.lr_far_scale is None else self.interp(value, (1.0, self.lr_far_scale))
        if self.lr_policy == 'adaptive_init':
            jump = min(2 * ratio, self.max_lr_scale)
            self.peak = min(jump + self._scale_at(max(self.iters - 1, 0)), self.max_lr_scale)
            self.iters_train = iters
            self.decay = self.base_iters
        else:
            unused = max(self.iters_train - self.iters, 0)
            self.iters_train = min(int(ratio * iters) + unused, self.max_iters)
            self.peak = far if self.lr_policy == 'adaptive_slope' else 1.0
            self.decay = self.iters_train if self.lr_policy == 'adaptive_slope' else None
        self.iters = 0

    def training(self):
        """bool: whether the current frame is inside the budget."""
        return self.iters < self.iters_train

    def _scale_at(self, iters):
        if not self.decay:
            return self.peak
        return max(self.peak * (1.0 - iters / self.decay), 0.0)

    def lr_scale(self):
        """float: factor on the base learning rate for the current frame."""
        return self._scale_at(self.iters)

    def current_mix_ratio(self):
        """float: fraction of source classes ClassMix pastes on this frame."""
        return 1.0 - self.target_share

    def apply(self, optimizer):
        """Writes the learning rate of the frame about to be adapted."""
        scale = self.lr_scale()
        uniform = self.uniform_lr and self.lr_policy != 'constant'
        for group in optimizer.param_groups:
            group.setdefault('initial_lr', group['lr'])
            group['lr'] = (optimizer.defaults['lr'] if uniform else group['initial_lr']) * scale
        return scale

    def step(self):
        """One frame has passed."""
        self.iters += 1

    def state_dict(self):
        return dict(iters=self.iters, iters_train=self.iters_train, peak=self.peak,
                    decay=self.decay, target_share=self.target_share)

    def load_state_dict(self, state):
        self.iters = int(state['iters'])
        self.iters_train = state['iters_train']
        self.peak = float(state['peak'])
        self.decay = state['decay']
        self.target_share = float(state['target_share'])


def build_schedule(type='boost', **kwargs):
    """Builds the schedule registered as ``type`` in
    :data:`~online_src.builder.SCHEDULES` ('boost', 'hamlet' or one of your own)."""
    return build_part(SCHEDULES, 'schedule', dict(kwargs, type=type), 'boost')
