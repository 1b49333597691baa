"""Wall-clock timing of the online stream: per-frame records and frames/s.

Each frame of the stream is recorded as (domain visit, adapted 0/1, seconds of
the whole frame, seconds of the adaptation step). CUDA work is synchronised
before reading the clock, so the numbers are the device's, not the launch queue's.
"""
import time

import numpy as np
import torch

__all__ = ['StreamTimer', 'synchronize']


def synchronize(device):
    """Waits for the device's queued work (no-op on CPU)."""
    if isinstance(device, torch.device) and device.type == 'cuda':
        torch.cuda.synchronize(device)


class StreamTimer:
    """Collects per-frame timings and summarises them as frames per second."""

    COLUMNS = ('visit', 'adapted', 'frame_seconds', 'step_seconds')

    def __init__(self):
        self.records = []

    def now(self, device=None):
        """float: a synchronised ``time.perf_counter`` reading."""
        synchronize(device)
        return time.perf_counter()

    def add(self, visit, adapted, frame_seconds, step_seconds):
        """Records one frame."""
        self.records.append((int(visit), int(bool(adapted)), float(frame_seconds),
                             float(step_seconds)))

    def as_array(self):
        """np.ndarray[n, 4]: the records, columns :attr:`COLUMNS`."""
        return np.asarray(self.records, dtype=np.float64).reshape(-1, 4)

    def summary(self):
        """dict: frames/s of the whole stream, of adapted and of inference-only
        frames, and the mean adaptation-step time (nan where there are no frames)."""
        a = self.as_array()
        out = dict(frames=len(a), adapted_frames=int(a[:, 1].sum()) if len(a) else 0)

        def fps(rows):
            return float(len(rows) / rows[:, 2].sum()) if len(rows) else float('nan')

        out['fps'] = fps(a)
        adapted = a[a[:, 1] == 1]
        out['adapt_fps'] = fps(adapted)
        out['inference_fps'] = fps(a[a[:, 1] == 0])
        out['step_seconds'] = float(adapted[:, 3].mean()) if len(adapted) else float('nan')
        return out

    def save(self, filename):
        """Writes the records to ``filename`` (``fps.npy``)."""
        np.save(filename, self.as_array())

    def state_dict(self):
        return dict(records=[list(r) for r in self.records])

    def load_state_dict(self, state):
        self.records = [tuple(r) for r in state['records']]
