"""SourceStream: the seeded order of the source passes, built once per pass."""
import pytest
import torch

from online_src import SourceStream


class IndexDataset:
    """Records the indices it is asked for; a sample is its index."""

    def __init__(self, n):
        self.n = n
        self.seen = []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.seen.append(i)
        return dict(idx=torch.tensor([i]))


def reference_indices(n, batch_size, seed, passes, shuffle=True):
    """The documented rule: pass e is randperm(n) seeded with seed * 100003 + e,
    its last n % batch_size indices dropped."""
    out = []
    for epoch in range(passes):
        order = list(range(n))
        if shuffle:
            g = torch.Generator().manual_seed(seed * 100003 + epoch)
            order = torch.randperm(n, generator=g).tolist()
        out += order[:n - n % batch_size]
    return out


def count_orders(stream):
    """Wraps the stream's order builder with a call counter."""
    calls = []
    build = stream._order

    def counted():
        calls.append(stream.epoch)
        return build()

    stream._order = counted
    return calls


@pytest.mark.parametrize('n, batch_size, shuffle', [(7, 2, True), (5, 1, True),
                                                     (6, 3, False)])
def test_source_stream_follows_the_seeded_order_built_once_per_pass(n, batch_size,
                                                                    shuffle):
    stream = SourceStream(IndexDataset(n), batch_size, shuffle, seed=3)
    calls = count_orders(stream)
    per_pass = n // batch_size
    draws = 3 * per_pass + 1  # three whole passes and the first batch of a fourth
    batches = [stream.next()['idx'].flatten().tolist() for _ in range(draws)]
    expected = reference_indices(n, batch_size, 3, 4, shuffle)[:draws * batch_size]
    assert sum(batches, []) == stream.dataset.seen == expected
    assert calls == [0, 1, 2, 3]  # one build per pass, not one per batch
    assert stream.state_dict() == dict(epoch=3, position=1, drawn=draws, dataset=None)
    assert stream._epoch_batches() is stream._epoch_batches()


@pytest.mark.parametrize('drawn', [3, 4])  # at the end of pass 0 / inside pass 1
def test_resumed_source_stream_yields_the_same_batches(drawn):
    stream = SourceStream(IndexDataset(7), 2, seed=1)
    for _ in range(drawn):
        stream.next()
    state = stream.state_dict()
    after = [stream.next()['idx'].flatten().tolist() for _ in range(5)]

    fresh = SourceStream(IndexDataset(7), 2, seed=1)
    calls = count_orders(fresh)
    fresh.load_state_dict(state)
    again = [fresh.next()['idx'].flatten().tolist() for _ in range(5)]
    assert again == after
    assert sum(after, []) == reference_indices(7, 2, 1, 4)[2 * drawn:2 * drawn + 10]
    assert calls == ([0, 1, 2] if drawn == 3 else [1, 2])
