"""Augmentation kinds against kornia and their static shapes; training batches only, the same for
the same seed, a resumed run equal to an uninterrupted one."""

from __future__ import annotations

import csv
import inspect
import sys
from pathlib import Path

import kornia
import pytest
import torch

from nnspec import cli
from nnspec.compiler.codegen import Target, generate
from nnspec.compiler.pipeline import check_file
from nnspec.kinds.augment import AUGMENTS
from nnspec.kinds.base import Shape
from nnspec.kinds.pysrc import call
from nnspec.program.augment import AddNoise, Augmented
from nnspec.program.minibatches import Batches
from nnspec.runtime.execute import load_program

DIGITS = Path(__file__).resolve().parent.parent / "examples" / "data" / "digits_png"
IMAGES = (3, 20, 24)  # per sample; not square, so that height and width cannot be swapped unseen
# Arguments for each kind (its required ones, and some that change what it does).
CASES = {
    "RandomHorizontalFlip": {},
    "RandomVerticalFlip": {"p": 1.0},
    "RandomResizedCrop": {"size": [12, 10]},
    "RandomCrop": {"size": [16, 26], "padding": 2},
    "RandomRotation": {"degrees": 10},
    "ColorJitter": {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.1},
    "RandomErasing": {"p": 1.0},
    "GaussianNoise": {"sigma": 0.05, "clip": True},
}
KINDS = sorted(CASES)


def bound(name: str) -> dict:
    kind = AUGMENTS.get(name)
    return {**{p.name: p.default for p in kind.params}, **CASES[name]}


def built(name: str) -> torch.nn.Module:
    """The module the generated program builds for the kind: its constructor call, evaluated."""
    kind = AUGMENTS.get(name)
    positional, keywords = kind.constructor(bound(name))
    return eval(call(kind.torch_class, positional, keywords), {"kornia": kornia, "AddNoise": AddNoise})


def test_every_kind_has_a_case():
    assert sorted(k.name for k in AUGMENTS) == KINDS


@pytest.mark.parametrize("name", KINDS)
def test_output_shape_equals_static_shape(name):
    x = torch.rand(5, *IMAGES, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    out = built(name)(x)
    static = AUGMENTS.get(name).infer_shape(Shape(IMAGES), bound(name))
    assert tuple(out.shape) == (5, *static.dims)
    assert out.dtype == x.dtype
    assert out.shape != x.shape or not torch.equal(out, x)  # it changed the batch


@pytest.mark.parametrize("name", KINDS)
def test_defaults_are_the_librarys(name):
    """Declared defaults equal those of the class the program builds (kornia's keep torchvision's);
    the keywords a kind fixes exist there."""
    kind = AUGMENTS.get(name)
    target = eval(kind.torch_class, {"kornia": kornia, "AddNoise": AddNoise})
    signature = inspect.signature(target).parameters
    for p in kind.params:
        assert p.name in signature, p.name
        theirs = signature[p.name].default
        if p.required:
            assert theirs is inspect.Parameter.empty
        else:
            same = list(theirs) if isinstance(theirs, tuple) else theirs
            assert same == pytest.approx(p.default), p.name
    assert set(kind.fixed) <= set(signature)


def _augmented(seed: int) -> Augmented:
    x = torch.rand(40, *IMAGES, generator=torch.Generator().manual_seed(1))
    y = torch.arange(40)
    chain = torch.nn.Sequential(*(built(n) for n in KINDS if n not in ("RandomResizedCrop", "RandomCrop")))
    return Augmented(Batches(x, y, 8, True, False, 0), chain, seed)


def test_the_same_seed_the_same_batches_and_the_global_generator_untouched():
    state = torch.get_rng_state()
    first = [x for x, _ in _augmented(3).epoch(2)]
    assert torch.equal(torch.get_rng_state(), state)  # dropout draws as without augmentation
    again = [x for x, _ in _augmented(3).epoch(2)]
    other = [x for x, _ in _augmented(4).epoch(2)]
    later = [x for x, _ in _augmented(3).epoch(3)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], other[0]) and not torch.equal(first[0], later[0])


def test_normalized_batches_are_augmented_as_pixels():
    """A flip of every sample commutes with per-channel normalization, exactly as on the pixels."""
    x = torch.rand(8, *IMAGES, generator=torch.Generator().manual_seed(2))
    stats = {
        "shift": torch.tensor([0.5, 0.4, 0.3]).view(-1, 1, 1),
        "scale": torch.tensor([0.2, 0.25, 0.5]).view(-1, 1, 1),
    }
    flip = kornia.augmentation.RandomHorizontalFlip(p=1.0)
    scaled = (x - stats["shift"]) / stats["scale"]
    (out, _), *_ = Augmented(Batches(scaled, torch.arange(8), 8, False, False, 0), flip, 0, stats).epoch(0)
    torch.testing.assert_close(out, scaled.flip(-1))


SPEC = f"""
data digits {{
    source = images("{DIGITS}", size=[10, 10], crop=[8, 8])
    split = {{ train: 0.25, val: 0.1, test: 0.65 }}
    batch_size = 50
    normalize = "imagenet"
    augment = [RandomResizedCrop(8, scale=[0.6, 1.0]), RandomHorizontalFlip(), RandomRotation(10),
               ColorJitter(0.2, 0.2), RandomErasing(), GaussianNoise(sigma=0.02)]
}}
model Net {{
    input x: [3, 8, 8]
    output x -> Conv2d(8, 3, padding=1) -> ReLU() -> Dropout(0.2) -> Flatten() -> Linear(10)
}}
train {{
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.05, momentum=0.9)
    epochs = 3
    seed = 4
}}
"""


def _spec(tmp_path) -> str:
    path = tmp_path / "spec.nn"
    path.write_text(SPEC)
    return str(path)


def _run(capsys, *argv) -> int:
    code = cli.main([str(a) for a in argv])
    capsys.readouterr()
    return code


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path, capsys):
    spec = _spec(tmp_path)
    a, b = tmp_path / "A", tmp_path / "B"
    assert _run(capsys, "run", spec, "--out", a) == 0
    assert _run(capsys, "run", spec, "--out", b, "--epochs", 1) == 0
    assert _run(capsys, "run", spec, "--out", b, "--resume", "--epochs", 3) == 0
    ours, theirs = (torch.load(f / "last.pt", weights_only=True)["model"] for f in (a, b))
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    with open(a / "metrics.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 3


def test_only_training_batches_are_augmented(tmp_path):
    """Validation and test batches reach evaluate() as the data holds them."""
    program = check_file(_spec(tmp_path)).program
    target = Target("train_spec.py", str(tmp_path), str(tmp_path / "runs"))
    ns = load_program(generate(program, program.trains["train"], target, format=False), str(tmp_path / "spec.nn"))
    seen, evaluate = [], ns["evaluate"]

    def recording(model, batches, loss_fn, **kw):
        seen.append(batches)
        return evaluate(model, batches, loss_fn, **kw)

    ns["evaluate"] = recording
    trained, train_epoch = [], ns["train_epoch"]
    ns["train_epoch"] = lambda model, batches, *a, **kw: (
        trained.append(batches) or train_epoch(model, batches, *a, **kw)
    )
    args = ns["arguments"](["--data-root", str(tmp_path), "--out", str(tmp_path / "out"), "--epochs", "1"])
    ns["train"](args, ns["PrintReport"]())
    assert [type(b).__name__ for b in trained] == ["Augmented"]
    assert len(seen) == 2 and all(isinstance(b, ns["Batches"]) for b in seen)  # val, then test


def test_a_program_without_augment_does_not_import_kornia(tmp_path):
    spec = tmp_path / "plain.nn"
    spec.write_text(SPEC.replace("augment =", "# augment =").replace("ColorJitter", "# ColorJitter"))
    program = check_file(str(spec)).program
    source = generate(program, program.trains["train"], Target("p.py", str(tmp_path), "runs"), format=False)
    assert "kornia" not in source and "Augmented" not in source


@pytest.mark.parametrize("key", ["mean", "std"])
def test_channel_statistics_reach_the_program(key, tmp_path):
    """Each of mean and std changes the generated program (both are needed, so one is changed)."""
    explicit = SPEC.replace('normalize = "imagenet"', "mean = [0.5, 0.5, 0.5]\n    std = [0.25, 0.25, 0.25]")
    changed = explicit.replace(f"{key} = [0.5, 0.5,", f"{key} = [0.125, 0.5,").replace(
        f"{key} = [0.25, 0.25,", f"{key} = [0.125, 0.25,"
    )
    programs = []
    for i, text in enumerate((explicit, changed)):
        spec = tmp_path / f"s{i}.nn"
        spec.write_text(text)
        program = check_file(str(spec)).program
        target = Target("p.py", str(tmp_path), "runs")
        programs.append(generate(program, program.trains["train"], target, format=False).replace(f"s{i}.nn", "s.nn"))
    assert programs[0] != programs[1]
    assert "MEAN = [0.5, 0.5, 0.5]" in programs[0]


def test_streamed_batches_are_augmented_as_in_memory_ones(tmp_path, capsys):
    """Images read by a DataLoader worker as batches need them: the same weights after an epoch."""
    spec = _spec(tmp_path)
    streamed = tmp_path / "streamed.nn"
    streamed.write_text(
        SPEC.replace("    batch_size = 50", "    batch_size = 50\n    in_memory = false\n    num_workers = 1")
    )
    a, b = tmp_path / "A", tmp_path / "B"
    assert _run(capsys, "run", spec, "--out", a, "--epochs", 1) == 0
    assert _run(capsys, "run", streamed, "--out", b, "--epochs", 1) == 0
    ours, theirs = (torch.load(f / "last.pt", weights_only=True)["model"] for f in (a, b))
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_image_kinds_without_kornia_are_a_coded_error(tmp_path, capsys, monkeypatch):
    """The augment extra missing: E520 naming it, exit 1, no traceback, before a step."""
    monkeypatch.setitem(sys.modules, "kornia", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "kornia.augmentation", None)
    code = cli.main(["run", _spec(tmp_path), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error[E520]:") and "nnspec[augment]" in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "last.pt").exists()
