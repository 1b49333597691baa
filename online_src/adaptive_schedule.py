"""Adaptive learning rate and mix ratio after a detected domain change (HAMLET).

HAMLET (Colomer et al., ICCV 2023, arXiv:2307.15063, Sec. 3.3) reacts to a
detected shift by raising the learning rate in proportion to the size of the
jump and decaying it linearly back as the new domain is learned; the DACS mix
ratio follows the same schedule (more source pixels while the model is unsure).
'constant' keeps the optimizer's learning rate and passes no mix ratio.

``warmup_frames`` multiplies either policy by a linear ramp over the first adapted
frames of the stream (as the linear warm-up of SegFormer/DAFormer training): a
freshly built Adam takes full-size sign steps until its second-moment estimate
has seen a few gradients, which on batch-1 frames costs accuracy for nothing.
"""
__all__ = ['AdaptiveSchedule', 'LR_POLICIES']

LR_POLICIES = ('constant', 'adaptive')


class AdaptiveSchedule:
    """Learning-rate scale and mix ratio as functions of the frames since a change.

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

    def on_change(self, relative_jump):
        """Starts a new decay after a detected change of size ``relative_jump``."""
        if self.lr_policy == 'adaptive':
            self.peak = min(self.lr_max_scale,
                            max(self.lr_min_scale, 1.0 + self.lr_gain * abs(relative_jump)))
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
