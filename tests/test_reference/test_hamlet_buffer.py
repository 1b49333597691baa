"""HAMLET's source buffer against its public code.

Reference: MarcBotet/hamlet, ``online_src/buffer.py`` (``create_buffer``: a
``torch.utils.data.Subset`` of ``buffer_size`` indices, chosen uniformly from the raw
source or by ``SourceDataset.rcs_sampling`` in ``mmseg/datasets/source_dataset.py``:
a class by the RCS probabilities, then a sample holding it, until the indices are
distinct) read through a shuffled DataLoader; with RCS on, ``SourceDataset.__getitem__``
ignores the index and draws a rare-class sample. Reimplemented below from that code.
"""
import numpy as np
import pytest

from online_src import SourceStream, SourceSubset


class Inner:
    """The wrapped source dataset: sample i is i."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return dict(img=np.float32(i))


class RCSSource:
    """Stands in for the project's SourceDataset with RCS on (its tables and the
    index-ignoring draw), recording what it is asked for."""

    def __init__(self, n=40):
        self.dataset = Inner(n)
        self.rcs = dict(class_temp=0.01)
        self.rcs_classes = [3, 5, 7]
        self.rcs_classprob = np.array([0.6, 0.3, 0.1])
        self.samples_with_class = {3: list(range(0, 30)), 5: list(range(10, 25)),
                                   7: [37, 38, 39]}
        self.asked = []
        self.draws = 0

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, idx):
        self.asked.append(idx)
        self.draws += 1
        return dict(img=np.float32(-1))  # a fresh rare-class draw, whatever idx is

    def state_dict(self):
        return dict(draws=self.draws)

    def load_state_dict(self, state):
        self.draws = state['draws']


def reference_rcs_subset(ds, size, seed):
    np.random.seed(seed)
    indices = set()
    while len(indices) < size:
        c = np.random.choice(ds.rcs_classes, p=ds.rcs_classprob)
        f1 = np.random.choice(ds.samples_with_class[c])
        indices.add(f1)  # file_to_idx is the identity here
    return sorted(indices)


def reference_uniform_subset(n, size, seed):
    np.random.seed(seed)
    indices = list(range(n))
    np.random.shuffle(indices)
    return indices[:size]


@pytest.mark.parametrize('seed', [0, 3])
def test_subsets_equal_hamlet(seed):
    ds = RCSSource()
    rcs = SourceSubset(ds, size=12, policy='rare_class_sampling', seed=seed)
    assert rcs.indices == reference_rcs_subset(ds, 12, seed)
    uni = SourceSubset(ds, size=12, policy='uniform', seed=seed)
    assert uni.indices == reference_uniform_subset(40, 12, seed)
    assert len(rcs) == len(uni) == 12 and ds.draws == 0  # choosing reads nothing


def test_reads_and_passes():
    ds = RCSSource()
    # HAMLET's code: the subset's indices go to the RCS dataset, which draws afresh
    sub = SourceSubset(ds, size=6, policy='rare_class_sampling', read='dataset', seed=0)
    stream = SourceStream(sub, batch_size=1, shuffle=True, seed=0)
    batches = [stream.next() for _ in range(12)]
    assert sorted(ds.asked[:6]) == sub.indices and sorted(ds.asked[6:]) == sub.indices
    assert {float(b['img'][0]) for b in batches} == {-1.0}
    # read='subset': the chosen samples themselves; 'uniform': the raw source
    for policy, read in (('rare_class_sampling', 'subset'), ('uniform', 'dataset')):
        sub = SourceSubset(ds, size=6, policy=policy, read=read, seed=0)
        stream = SourceStream(sub, batch_size=1, shuffle=True, seed=0)
        seen = [int(stream.next()['img'][0]) for _ in range(6)]
        assert sorted(seen) == sorted(sub.indices)
    assert len(ds.asked) == 12


def test_buffer_errors():
    ds = RCSSource()
    with pytest.raises(ValueError, match=r'size must be in 1..33'):
        SourceSubset(ds, size=34)  # 33 samples hold a sampled class
    with pytest.raises(ValueError, match='needs a SourceDataset with rare_class_sampling'):
        SourceSubset(Inner(5), size=2)
    with pytest.raises(ValueError, match="policy must be one of"):
        SourceSubset(ds, size=2, policy='greedy')
