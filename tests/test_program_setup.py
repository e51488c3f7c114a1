"""nnspec/program/setup.py, console.py and contract.py directly: options, devices, the split contract."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from nnspec.program import console, setup  # noqa: E402
from nnspec.program.contract import Facts, class_problem, split_counts, split_problem  # noqa: E402
from nnspec.program.errors import DataError  # noqa: E402


def test_options_default_to_none_so_that_resume_can_fill_them():
    args = setup.arguments([])
    assert (args.epochs, args.lr, args.seed, args.resume) == (None, None, None, False)
    assert args.defaults == {"epochs": setup.EPOCHS, "lr": setup.LR, "seed": setup.SEED}  # for RunFolder
    assert setup.arguments(["--overfit-batch"]).epochs == max(setup.EPOCHS, setup.OVERFIT_EPOCHS)
    assert setup.arguments(["--epochs", "3", "--lr", "0.1", "--seed", "7"]).epochs == 3


@pytest.mark.parametrize(
    "argv",
    [["--epochs", "0"], ["--epochs", "x"], ["--seed", str(2**32)], ["--seed", "-1"], ["--lr", "nan"], ["--lr", "1e39"]],
)
def test_out_of_range_options_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        setup.arguments(argv)
    assert exit.value.code == 2 and argv[0] in capsys.readouterr().err


def test_devices():
    assert console.pick_device("cpu").type == "cpu"
    assert console.pick_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(DataError) as raised:
        console.pick_device("tpu")
    assert raised.value.code == "E607"


def test_splits_take_what_rounding_leaves_and_small_ones_are_refused():
    assert split_counts(10, {"train": 0.7, "val": 0.15, "test": 0.15}) == {"train": 7, "val": 2, "test": 1}
    assert split_counts(10, {"train": 1.0, "val": 0.0}) == {"train": 10, "val": 0}
    assert split_problem({"train": 10, "val": 0}, 4, False, False)[::2] == ("E513", "split")
    assert split_problem({"train": 3, "val": 1}, 4, True, False)[::2] == ("E513", "batch_size")
    assert split_problem({"train": 9, "val": 1}, 4, False, True)[::2] == ("E513", "batch_size")
    assert split_problem({"train": 9, "val": 1}, 4, True, True) is None  # the 1 left over is dropped


def test_class_labels_outside_the_output_are_refused_naming_the_label():
    assert class_problem(Facts("integers", [0, 1, 2], 3, ()), (3,)) is None
    code, message = class_problem(Facts("integers", [0, 1, 5], 3, ()), (3,))
    assert code == "E517" and "5" in message
    code, message = class_problem(Facts("integers", [-1, 0], 2, ()), (2,))
    assert code == "E517" and "-1" in message
    assert class_problem(Facts("reals", [0.5], 1, ()), (2,))[0] == "E516"
    assert class_problem(Facts("text", ["a", "b", "c"], 3, ()), (2,))[0] == "E517"
