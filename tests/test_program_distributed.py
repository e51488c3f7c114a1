"""nnspec/program/distributed.py as a module: how ranks split batches and weight their losses,
and which saved RNG states a resumed rank takes (its rank and world set by hand, no processes)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from nnspec.program import distributed  # noqa: E402
from nnspec.program.errors import DataError  # noqa: E402


def as_rank(monkeypatch, rank: int, world: int) -> None:
    monkeypatch.setattr(distributed, "rank", lambda: rank)
    monkeypatch.setattr(distributed, "world", lambda: world)


@pytest.mark.parametrize("world", [1, 2, 3, 4])
@pytest.mark.parametrize("start,stop", [(0, 16), (16, 21), (32, 33), (5, 5), (0, 7)])
def test_the_ranks_parts_cover_a_batch_once_in_order(monkeypatch, world, start, stop):
    parts = []
    for rank in range(world):
        as_rank(monkeypatch, rank, world)
        parts.append(distributed.rank_part(start, stop))
    assert [i for part in parts for i in range(stop)[part]] == list(range(start, stop))
    sizes = [part.stop - part.start for part in parts]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("sizes", [[8, 8], [3, 2], [1, 1, 2], [16]])
def test_weighted_rank_means_average_to_the_batch_mean(monkeypatch, sizes):
    """DDP averages the ranks' gradients: the weights make that the whole batch's mean."""
    values = [[float(i * 7 % 5) for i in range(sum(sizes[:r]), sum(sizes[: r + 1]))] for r in range(len(sizes))]
    as_rank(monkeypatch, 0, len(sizes))
    weighted = [sum(v) / len(v) * distributed.share(len(v), sum(sizes)) for v in values]
    assert sum(weighted) / len(sizes) == pytest.approx(sum(map(sum, values)) / sum(sizes))


def test_a_resumed_rank_takes_its_own_state_and_needs_as_many_ranks(monkeypatch):
    as_rank(monkeypatch, 1, 2)
    assert distributed.own_state(["zero", "one"], "last.pt") == "one"
    with pytest.raises(DataError) as refused:
        distributed.own_state({"torch": "one process's"}, "last.pt")
    assert refused.value.code == "E633"
    as_rank(monkeypatch, 0, 1)
    assert distributed.own_state({"torch": "one process's"}, "last.pt") == {"torch": "one process's"}
