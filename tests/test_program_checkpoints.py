"""nnspec/program/checkpoints.py directly: atomic writes, the round trip, refusals, RNG state."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nnspec.program.checkpoints import (  # noqa: E402
    load_checkpoint,
    load_weights,
    rng_state,
    save_checkpoint,
    set_rng_state,
    write_file,
    write_metrics,
)
from nnspec.program.errors import DataError  # noqa: E402


def checkpoint(model) -> dict:
    return {"model": model.state_dict(), "classes": ["a", "b"], "normalization": None, "data": {"samples": 3}}


def code_of(call, *args) -> str:
    with pytest.raises(DataError) as raised:
        call(*args)
    return raised.value.code


def test_a_checkpoint_round_trips_and_loads_into_the_same_architecture(tmp_path):
    model, path = torch.nn.Linear(3, 2), str(tmp_path / "best.pt")
    save_checkpoint(path, checkpoint(model))
    assert os.listdir(tmp_path) == ["best.pt"]  # no temporary file left
    loaded = load_checkpoint(path)
    assert loaded["classes"] == ["a", "b"] and loaded["data"] == {"samples": 3}
    other = torch.nn.Linear(3, 2)
    load_weights(other, loaded, path)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), other.state_dict().values()))


def test_another_architecture_is_refused_naming_the_tensors(tmp_path):
    path = str(tmp_path / "best.pt")
    save_checkpoint(path, checkpoint(torch.nn.Linear(3, 2)))
    with pytest.raises(DataError) as raised:
        load_weights(torch.nn.Linear(4, 2), load_checkpoint(path), path)
    assert raised.value.code == "E608" and "weight" in raised.value.message
    assert "bias" not in raised.value.message  # the same shape: not named


def test_what_is_not_an_nnspec_checkpoint_is_refused(tmp_path):
    assert code_of(load_checkpoint, str(tmp_path / "missing.pt")) == "E501"
    good = tmp_path / "good.pt"
    save_checkpoint(str(good), checkpoint(torch.nn.Linear(3, 2)))
    torn = tmp_path / "torn.pt"
    torn.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert code_of(load_checkpoint, str(torn)) == "E608"
    torch.save({"model": {}}, tmp_path / "keys.pt")  # lacks classes, normalization, data
    assert code_of(load_checkpoint, str(tmp_path / "keys.pt")) == "E608"
    torch.save({**checkpoint(torch.nn.Linear(1, 1)), "model": {"w": 1}}, tmp_path / "model.pt")
    assert code_of(load_checkpoint, str(tmp_path / "model.pt")) == "E608"


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path):
    path = tmp_path / "metrics.csv"
    write_metrics(str(path), [{"epoch": 1, "train_loss": 0.5}])
    before = path.read_bytes()

    def fails(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_file(str(path), fails)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["metrics.csv"]
    assert before.decode().splitlines() == ["epoch,train_loss", "1,0.5"]


def draws() -> tuple:
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)]


def test_rng_state_survives_a_checkpoint(tmp_path):
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    np.random.randn()  # numpy keeps a cached gaussian: part of the state
    path = str(tmp_path / "last.pt")
    save_checkpoint(path, {**checkpoint(torch.nn.Linear(1, 1)), "rng": rng_state()})
    expected = draws()
    set_rng_state(load_checkpoint(path)["rng"])  # loaded with weights_only=True
    assert draws() == expected
