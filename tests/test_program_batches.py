"""nnspec/program/batches.py and streamed.py directly: batch sizes, drop_last, the order of an
epoch, and streamed batches in the in-memory order. Settings are set on the modules."""

from __future__ import annotations

import types

import pytest

torch = pytest.importorskip("torch")

from nnspec.program import batches, data, streamed  # noqa: E402
from nnspec.program.batches import make_batches  # noqa: E402
from nnspec.program.minibatches import Batches  # noqa: E402
from nnspec.program.streamed import Rows, Streamed  # noqa: E402

CPU = torch.device("cpu")


@pytest.fixture
def batch_size(monkeypatch):
    def set_size(size):
        for module in (batches, streamed, data):
            monkeypatch.setattr(module, "BATCH_SIZE", size)

    return set_size


def epoch_of(b, epoch=0) -> list:
    return list(b.epoch(epoch))


def test_batch_count_and_sizes_with_and_without_drop_last(batch_size):
    batch_size(4)
    x, y = torch.arange(10.0)[:, None], torch.arange(10)
    kept, dropped = Batches(x, y, 4, False, False, 0), Batches(x, y, 4, False, True, 0)
    assert len(kept) == 3 and [len(bx) for bx, _ in epoch_of(kept)] == [4, 4, 2]
    assert len(dropped) == 2 and [len(bx) for bx, _ in epoch_of(dropped)] == [4, 4]
    assert len(Batches(x[:8], y[:8], 4, False, True, 0)) == 2  # nothing left to drop


def test_an_epoch_holds_every_sample_once_in_an_order_set_by_seed_and_epoch(batch_size):
    batch_size(3)
    x, y = torch.arange(10.0)[:, None], torch.arange(10)
    shuffled = Batches(x, y, 3, True, False, seed=5)
    order = [torch.cat([by for _, by in epoch_of(shuffled, e)]).tolist() for e in (0, 0, 1)]
    assert sorted(order[0]) == list(range(10))
    assert order[0] == order[1] != order[2]  # the same epoch, the same order; another epoch not
    assert order[0] != torch.cat([by for _, by in epoch_of(Batches(x, y, 3, True, False, 6))]).tolist()
    for bx, by in epoch_of(shuffled):
        assert bx[:, 0].long().tolist() == by.tolist()  # features and targets stay paired
    plain = torch.cat([by for _, by in epoch_of(Batches(x, y, 3, False, False, 5), 3)]).tolist()
    assert plain == list(range(10))


def test_make_batches_shuffles_and_drops_only_the_training_split(batch_size, monkeypatch):
    batch_size(4)
    monkeypatch.setattr(batches, "SHUFFLE", True)
    monkeypatch.setattr(batches, "DROP_LAST", True)
    split = (torch.arange(10.0)[:, None], torch.arange(10))
    made = make_batches(types.SimpleNamespace(splits={"train": split, "val": split}), 0, CPU)
    assert (made["train"].shuffle, made["train"].drop_last) == (True, True)
    assert (made["val"].shuffle, made["val"].drop_last) == (False, False)
    one = make_batches(types.SimpleNamespace(splits={"train": split, "test": split}), 0, CPU, True)
    assert set(one) == {"train", "val"}  # overfit_batch: validate on the one training batch
    assert len(one["train"]) == 1 and epoch_of(one["val"])[0][1].tolist() == [0, 1, 2, 3]


class Listed(torch.utils.data.Dataset):
    """Samples read one at a time, as a streamed source gives them."""

    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


@pytest.mark.parametrize("drop_last", [False, True])
def test_streamed_batches_come_in_the_in_memory_order(batch_size, monkeypatch, drop_last):
    batch_size(4)
    monkeypatch.setattr(data, "INPUT_SHAPE", (2,))
    x = torch.arange(22.0).reshape(11, 2)
    y = torch.arange(11)
    rows = Rows(Listed(x), "test data")
    for epoch in (0, 1):
        memory = epoch_of(Batches(x, y, 4, True, drop_last, 7), epoch)
        stream = epoch_of(Streamed(rows, y, True, drop_last, 7, CPU), epoch)
        assert len(stream) == len(memory) == (2 if drop_last else 3)
        for (mx, my), (sx, sy) in zip(memory, stream):
            assert torch.equal(mx, sx) and torch.equal(my, sy)
