"""Domain-shift detector of HAMLET (Colomer et al., "To Adapt or Not to Adapt?
Real-Time Adaptation for Semantic Segmentation", ICCV 2023, arXiv:2307.15063).

HAMLET watches a cheap per-frame signal (the loss of the frozen source model
against the student's pseudo-labels, or the prediction entropy) and declares a
domain change when its recent mean departs from the level of the current domain.
Here the level is the mean of the signal since the last detected change, excluding
the most recent ``window`` frames; a change is detected when the mean of those
``window`` frames differs from the level by more than ``threshold`` (relative).
After a change both are emptied: the next detection needs ``window + min_frames``
frames of the new domain.
"""
from collections import deque

import numpy as np

__all__ = ['DomainDetector']

SIGNALS = ('entropy', 'reference_loss')


class DomainDetector:
    """Running-statistic domain-change detector.

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
    """

    def __init__(self, signal='entropy', window=10, threshold=0.2, min_frames=10):
        if signal not in SIGNALS:
            raise ValueError(f'domain detector signal must be one of {SIGNALS}, '
                             f'got {signal!r}')
        if int(window) < 1 or int(min_frames) < 1:
            raise ValueError(f'domain detector window and min_frames must be >= 1, '
                             f'got window={window}, min_frames={min_frames}')
        if float(threshold) <= 0:
            raise ValueError(f'domain detector threshold must be > 0, got {threshold}')
        self.signal = signal
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
            change), ``relative_jump`` (jump / level), ``level``, ``recent``.
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
        out = dict(changed=False, jump=0.0, relative_jump=0.0, level=self.level,
                   recent=recent)
        if self._level_count >= self.min_frames and len(self._recent) == self.window:
            level = self.level
            rel = (recent - level) / max(abs(level), 1e-8)
            if abs(rel) > self.threshold:
                self.changes.append((self._frame, level, recent))
                # The new domain's level is learned from frames after the change.
                self._recent.clear()
                self._level_sum = 0.0
                self._level_count = 0
                out.update(changed=True, jump=recent - level, relative_jump=rel)
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
