"""Source replay for online adaptation.

The source domain stays available during the stream (DACS-style online
adaptation replays labelled source samples; OnDA / HAMLET keep a buffer of them).
:class:`SourceStream` draws source batches from the source dataset (whose own
sampling, e.g. rare-class sampling, it leaves alone) in a seeded order, restarting
when exhausted; :class:`ReplayBuffer` keeps the first ``size`` batches in memory
and replays uniformly drawn ones afterwards, so the stream stops reading the disk.
Both are resumable: their state is a few numbers plus the dataset's own
``state_dict`` when it has one (``SourceDataset``).

:class:`SourceSubset` is HAMLET's source buffer (``online_src/buffer.py`` of
MarcBotet/hamlet): a fixed subset of ``size`` source samples chosen once, by
rare-class sampling or uniformly, which the source stream then cycles through.
"""
import numpy as np
import torch
from mmcv.parallel import collate

from .rng import seeded

__all__ = ['SourceStream', 'ReplayBuffer', 'SourceSubset', 'index_batches',
           'BUFFER_POLICIES']

BUFFER_POLICIES = ('rare_class_sampling', 'uniform')


def _dataset_state(dataset):
    fn = getattr(dataset, 'state_dict', None)
    return fn() if callable(fn) else None


def _load_dataset_state(dataset, state):
    if state is not None and callable(getattr(dataset, 'load_state_dict', None)):
        dataset.load_state_dict(state)


def index_batches(indices, batch_size):
    """Splits a list of indices into consecutive batches of ``batch_size``."""
    return [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]


class SourceStream:
    """Endless seeded stream of collated source batches.

    Pass ``epoch`` visits the dataset in the order ``torch.randperm(n)`` of a
    generator seeded with ``seed * 100003 + epoch`` (``range(n)`` without
    ``shuffle``), split into batches of ``batch_size``; the last ``n % batch_size``
    indices of the pass are dropped. The order is built once per pass.

    Args:
        dataset (Dataset): the source dataset (train pipeline).
        batch_size (int): samples per batch. Default: 1.
        shuffle (bool): a new seeded permutation every pass. Default: True.
        seed (int): seed of the permutations. Default: 0.
    """

    def __init__(self, dataset, batch_size=1, shuffle=True, seed=0):
        if len(dataset) < batch_size:
            raise ValueError(f'source dataset has {len(dataset)} samples, fewer than '
                             f'one batch of {batch_size}')
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.epoch = 0
        self.position = 0
        self.drawn = 0
        self._batches = (None, None)  # (epoch, dataset length) -> its batches

    def _order(self):
        """list[list[int]]: the batches of pass ``self.epoch``."""
        n = len(self.dataset)
        if not self.shuffle:
            order = list(range(n))
        else:
            g = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
            order = torch.randperm(n, generator=g).tolist()
        return index_batches(order[:n - n % self.batch_size], self.batch_size)

    def _epoch_batches(self):
        """:meth:`_order`, built when the pass (or the dataset's length) changes."""
        key = (self.epoch, len(self.dataset))
        if self._batches[0] != key:
            self._batches = (key, self._order())
        return self._batches[1]

    def next(self):
        """dict: the next collated batch (DataContainers, as a DataLoader gives)."""
        batches = self._epoch_batches()
        if self.position >= len(batches):
            self.epoch += 1
            self.position = 0
            batches = self._epoch_batches()
        idx = batches[self.position]
        self.position += 1
        self.drawn += 1
        with seeded(self.seed, self.epoch, self.position, 1):
            return collate([self.dataset[i] for i in idx], samples_per_gpu=self.batch_size)

    def state_dict(self):
        return dict(epoch=self.epoch, position=self.position, drawn=self.drawn,
                    dataset=_dataset_state(self.dataset))

    def load_state_dict(self, state):
        self.epoch = int(state['epoch'])
        self.position = int(state['position'])
        self.drawn = int(state['drawn'])
        _load_dataset_state(self.dataset, state['dataset'])


class ReplayBuffer:
    """Keeps the first ``size`` source batches and replays them.

    Args:
        source (SourceStream): where new source batches come from.
        size (int): batches kept in memory; 0 streams from ``source`` forever.
            Default: 0.
        seed (int): seed of the replay draws. Default: 0.
    """

    def __init__(self, source, size=0, seed=0):
        if int(size) < 0:
            raise ValueError(f'replay buffer size must be >= 0, got {size}')
        self.source = source
        self.size = int(size)
        self.seed = int(seed)
        self.buffer = []
        self.generator = torch.Generator().manual_seed(self.seed)
        self._initial_source_state = source.state_dict()

    def next(self):
        """dict: the next source batch."""
        if self.size == 0 or len(self.buffer) < self.size:
            batch = self.source.next()
            if self.size:
                self.buffer.append(batch)
            return batch
        i = int(torch.randint(len(self.buffer), (1,), generator=self.generator))
        return self.buffer[i]

    def __iter__(self):
        """Endless iterator over :meth:`next` (what ``before_stream`` receives)."""
        while True:
            yield self.next()

    def state_dict(self):
        """Source state now and at the start, buffer fill, generator state."""
        return dict(source=self.source.state_dict(), filled=len(self.buffer),
                    initial_source=self._initial_source_state,
                    generator=self.generator.get_state())

    def load_state_dict(self, state):
        """Refills the buffer exactly as it was (re-reads ``filled`` batches from
        the start of the source stream), then restores the current state."""
        self.buffer = []
        if state['filled']:
            self.source.load_state_dict(state['initial_source'])
            self.buffer = [self.source.next() for _ in range(int(state['filled']))]
        self.source.load_state_dict(state['source'])
        self.generator.set_state(state['generator'])


class SourceSubset:
    """HAMLET's source buffer: ``size`` source samples chosen once.

    'rare_class_sampling' draws a class ``c`` with the source dataset's RCS
    probabilities and a sample holding ``c`` uniformly, until ``size`` distinct
    samples are chosen; 'uniform' takes the first ``size`` of a shuffled index
    list. Draws come from a generator seeded with ``seed`` (not the dataset's
    own), so the subset is the same on resume.

    Reading sample ``i`` of the subset: with 'uniform', the chosen sample of the
    wrapped dataset (``dataset.dataset``; no RCS). With 'rare_class_sampling',
    ``read='dataset'`` (HAMLET's code) asks the source dataset for the chosen
    index, and a ``SourceDataset`` with RCS on ignores the index and draws a
    fresh rare-class sample from the whole source: the subset then only sets
    how many draws make a pass. ``read='subset'`` reads the chosen sample itself
    (the buffer the paper describes).

    Args:
        dataset (SourceDataset): the source dataset; 'rare_class_sampling' needs
            its RCS tables (``rare_class_sampling`` set in its config).
        size (int): samples in the buffer. Default: 1000.
        policy (str): 'rare_class_sampling' or 'uniform'. Default:
            'rare_class_sampling'.
        read (str): 'dataset' or 'subset' (see above). Default: 'dataset'.
        seed (int): seed of the choice. Default: 0.
    """

    def __init__(self, dataset, size=1000, policy='rare_class_sampling', read='dataset',
                 seed=0):
        if policy not in BUFFER_POLICIES:
            raise ValueError(f'source_buffer.policy must be one of {BUFFER_POLICIES}, '
                             f'got {policy!r}')
        if read not in ('dataset', 'subset'):
            raise ValueError(f"source_buffer.read must be 'dataset' or 'subset', "
                             f"got {read!r}")
        self.dataset = dataset
        self.policy = policy
        self.read = read
        # numpy's legacy generator with HAMLET's calls: the same seed gives the
        # subset HAMLET's code draws after np.random.seed(seed)
        rng = np.random.RandomState(seed)
        inner = getattr(dataset, 'dataset', dataset)
        if policy == 'uniform':
            n = len(inner)
            if not 1 <= int(size) <= n:
                raise ValueError(f'source_buffer.size must be in 1..{n} (the source '
                                 f'samples), got {size}')
            indices = list(range(n))
            rng.shuffle(indices)
            self.indices = indices[:int(size)]
            return
        if getattr(dataset, 'rcs', None) is None:
            raise ValueError("source_buffer.policy='rare_class_sampling' needs a "
                             "SourceDataset with rare_class_sampling set")
        holding = set().union(*(dataset.samples_with_class[c]
                                for c in dataset.rcs_classes))
        if not 1 <= int(size) <= len(holding):
            raise ValueError(f'source_buffer.size must be in 1..{len(holding)} (the '
                             f'source samples holding a sampled class), got {size}')
        chosen = set()
        while len(chosen) < int(size):
            c = rng.choice(dataset.rcs_classes, p=dataset.rcs_classprob)
            chosen.add(int(rng.choice(dataset.samples_with_class[c])))
        self.indices = sorted(chosen)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        if self.policy == 'uniform' or self.read == 'subset':
            return getattr(self.dataset, 'dataset', self.dataset)[self.indices[i]]
        return self.dataset[self.indices[i]]

    def state_dict(self):
        """dict: the wrapped dataset's state (its RCS generator)."""
        return _dataset_state(self.dataset)

    def load_state_dict(self, state):
        _load_dataset_state(self.dataset, state)
