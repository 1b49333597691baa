"""Domain-shift detectors (HAMLET, Colomer et al., "To Adapt or Not to Adapt?
Real-Time Adaptation for Semantic Segmentation", ICCV 2023, arXiv:2307.15063).

Both watch a cheap per-frame signal and declare a domain change when it moves:

* :class:`HamletDomainDetector` (``type='hamlet'``, the published one, as
  ``online_src/domain_indicator_orchestrator.py`` of MarcBotet/hamlet): the signal
  is the loss of the frozen source model's lightweight module-1 decoder against
  the student's prediction; its mean over non-overlapping windows of ``window``
  frames is compared with the mean of the first window after the last change,
  and a change is a difference above ``threshold_up`` or below
  ``threshold_down`` (absolute, in loss units).
* :class:`DomainDetector` (``type='relative'``, the project's): the level is the
  mean of the signal since the last change (outside a sliding window of the
  ``window`` most recent frames), a change is a *relative* difference of the
  window's mean above ``threshold``; it reacts within ``window`` frames.
"""
from collections import deque

import numpy as np

from .builder import DETECTORS, build_part

__all__ = ['DomainDetector', 'HamletDomainDetector', 'build_domain_detector', 'SIGNALS']

SIGNALS = ('entropy', 'reference_loss')


@DETECTORS.register_module(name='relative')
class DomainDetector:
    """The project's running-statistic detector (relative threshold).

    Registered as ``'relative'`` in :data:`~online_src.builder.DETECTORS`; fed
    before the frame's training step (the frame that shows a change adapts).

    Args:
        signal (str): 'entropy' (mean prediction entropy of the deployed model,
            free: ``online_inference`` returns it) or 'reference_loss'
            (cross-entropy of a frozen copy of the source model against the
            student's prediction; one extra forward per frame). Default: 'entropy'.
        window (int): frames in the recent window compared with the level.
            Default: 10.
        threshold (float): relative difference |recent - level| / level that
            counts as a change. Default: 0.2.
        min_frames (int): frames of the current domain the level must hold
            (outside the window) before a change can be detected again.
            Default: 10.
        reference_module (int | None): with 'reference_loss', the module the
            frozen model decodes from (None: its deployed output). Default: None.
    """

    feed_after_step = False

    def __init__(self, signal='entropy', window=10, threshold=0.2, min_frames=10,
                 reference_module=None):
        if signal not in SIGNALS:
            raise ValueError(f'domain detector signal must be one of {SIGNALS}, '
                             f'got {signal!r}')
        if int(window) < 1 or int(min_frames) < 1:
            raise ValueError(f'domain detector window and min_frames must be >= 1, '
                             f'got window={window}, min_frames={min_frames}')
        if float(threshold) <= 0:
            raise ValueError(f'domain detector threshold must be > 0, got {threshold}')
        self.signal = signal
        self.reference_module = reference_module
        self.window = int(window)
        self.threshold = float(threshold)
        self.min_frames = int(min_frames)
        self.reset()

    def reset(self):
        """Forgets everything (start of the stream)."""
        self._recent = deque(maxlen=self.window)
        self._level_sum = 0.0
        self._level_count = 0
        self.changes = []  # (frame, old level, new level)
        self._frame = 0

    @property
    def level(self):
        """float: the signal level of the current domain (nan before warm-up)."""
        return self._level_sum / self._level_count if self._level_count else float('nan')

    def update(self, value):
        """Adds one frame's signal value.

        Args:
            value (float): the signal of the frame.

        Returns:
            dict: ``changed`` (bool), ``jump`` (recent mean minus level, 0 when no
            change), ``relative_jump`` (jump / level), ``direction`` (sign of the
            jump), ``level``, ``recent``.
        """
        value = float(value)
        if not np.isfinite(value):
            raise ValueError(f'domain detector got a non-finite signal {value} at '
                             f'frame {self._frame}')
        if len(self._recent) == self.window:
            self._level_sum += self._recent[0]
            self._level_count += 1
        self._recent.append(value)
        self._frame += 1
        recent = float(np.mean(self._recent))
        out = dict(changed=False, jump=0.0, relative_jump=0.0, direction=0,
                   level=self.level, recent=recent)
        if self._level_count >= self.min_frames and len(self._recent) == self.window:
            level = self.level
            rel = (recent - level) / max(abs(level), 1e-8)
            if abs(rel) > self.threshold:
                self.changes.append((self._frame, level, recent))
                # The new domain's level is learned from frames after the change.
                self._recent.clear()
                self._level_sum = 0.0
                self._level_count = 0
                out.update(changed=True, jump=recent - level, relative_jump=rel,
                           direction=int(np.sign(rel)))
        return out

    def state_dict(self):
        """dict: plain-data state for checkpoints."""
        return dict(recent=list(self._recent), level_sum=self._level_sum,
                    level_count=self._level_count,
                    changes=[list(c) for c in self.changes], frame=self._frame)

    def load_state_dict(self, state):
        """Restores :meth:`state_dict`."""
        self._recent = deque(state['recent'], maxlen=self.window)
        self._level_sum = float(state['level_sum'])
        self._level_count = int(state['level_count'])
        self.changes = [tuple(c) for c in state['changes']]
        self._frame = int(state['frame'])


@DETECTORS.register_module(name='hamlet')
class HamletDomainDetector:
    """HAMLET's domain detector: window means against absolute thresholds.

    Registered as ``'hamlet'`` in :data:`~online_src.builder.DETECTORS`; fed after
    the frame's training step, as HAMLET's code (a change counts from the next
    frame).

    Every frame's signal is kept; once ``window`` values are kept their mean
    ``v`` is taken. The first such mean after the stream start or a change
    becomes the reference ``prev`` and the values are *not* cleared (HAMLET's
    code returns before clearing: the next frame compares the mean of
    ``window + 1`` values). Otherwise ``v - prev > threshold_up`` or
    ``v - prev < threshold_down`` is a change (direction ``sign(v - prev)``,
    then ``prev`` is forgotten), and the kept values are cleared either way.
    ``domain_value`` is the last window mean (HAMLET's ``last_domain``), the
    input of the budget, learning rate and mix ratio of
    :class:`~online_src.adaptive_schedule.HamletSchedule`.

    Args:
        signal (str): 'reference_loss' (HAMLET: cross-entropy of a frozen copy of
            the source model against the student's prediction) or 'entropy'.
            Default: 'reference_loss'.
        reference_module (int | None): module the frozen model decodes from;
            HAMLET uses its lightweight module-1 decoder (needs a modular
            segmentor with a decoder there; None: the deployed output).
            Default: 1.
        window (int): frames per window (HAMLET's ``limit``; 75 for Cityscapes,
            200 for SHIFT). Default: 75.
        threshold_up (float): loss rise that is a change (HAMLET's
            ``threshold_indicator[0]``). Default: 0.23.
        threshold_down (float): loss fall that is a change (negative).
            Default: -0.23.
    """

    feed_after_step = True

    def __init__(self, signal='reference_loss', reference_module=1, window=75,
                 threshold_up=0.23, threshold_down=-0.23):
        if signal not in SIGNALS:
            raise ValueError(f'domain detector signal must be one of {SIGNALS}, '
                             f'got {signal!r}')
        if int(window) < 1:
            raise ValueError(f'domain detector window must be >= 1, got {window}')
        if not float(threshold_down) < 0 < float(threshold_up):
            raise ValueError(f'domain detector needs threshold_down < 0 < threshold_up, '
                             f'got {threshold_down}, {threshold_up}')
        self.signal = signal
        self.reference_module = reference_module
        self.window = int(window)
        self.threshold_up = float(threshold_up)
        self.threshold_down = float(threshold_down)
        self.reset()

    def reset(self):
        """Forgets everything (start of the stream)."""
        self.values = []
        self.prev = None
        self.domain_value = None
        self.domain = 0  # +1 per detected rise, -1 per fall
        self.changes = []  # (frame, prev, new window mean)
        self._frame = 0

    def update(self, value):
        """Adds one frame's signal value; see the class docstring.

        Returns:
            dict: ``changed``, ``direction`` (+1 rise, -1 fall, 0), ``jump``
            (``v - prev`` at a change), ``relative_jump`` (``|jump| /
            threshold_up``, HAMLET's ratio), ``value`` (the window mean ``v`` or
            None) and ``previous`` (``prev`` before the change).
        """
        value = float(value)
        if not np.isfinite(value):
            raise ValueError(f'domain detector got a non-finite signal {value} at '
                             f'frame {self._frame}')
        self.values.append(value)
        self._frame += 1
        out = dict(changed=False, direction=0, jump=0.0, relative_jump=0.0, value=None,
                   previous=self.prev)
        if len(self.values) < self.window:
            return out
        mean = float(np.mean(self.values))
        out['value'] = mean
        if self.prev is None:
            self.prev = mean
            return out
        jump = mean - self.prev
        if jump > self.threshold_up or jump < self.threshold_down:
            direction = int(np.sign(jump))
            out.update(changed=True, direction=direction, jump=jump,
                       relative_jump=abs(jump) / self.threshold_up)
            self.changes.append((self._frame, self.prev, mean))
            self.domain += direction
            self.prev = None
        self.values = []
        self.domain_value = mean
        return out

    def state_dict(self):
        """dict: plain-data state for checkpoints."""
        return dict(values=list(self.values), prev=self.prev,
                    domain_value=self.domain_value, domain=self.domain,
                    changes=[list(c) for c in self.changes], frame=self._frame)

    def load_state_dict(self, state):
        """Restores :meth:`state_dict`."""
        self.values = [float(v) for v in state['values']]
        self.prev = state['prev']
        self.domain_value = state['domain_value']
        self.domain = int(state['domain'])
        self.changes = [tuple(c) for c in state['changes']]
        self._frame = int(state['frame'])


def build_domain_detector(type='hamlet', **kwargs):
    """Builds the detector registered as ``type`` in
    :data:`~online_src.builder.DETECTORS` ('hamlet', 'relative' or one of your own)."""
    return build_part(DETECTORS, 'detector', dict(kwargs, type=type), 'hamlet')
