"""`nnspec export`: every shipped spec and example to ONNX, verified, and checked again here with
onnxruntime on inputs of other sizes; `.pt2` round trips through torch.export.load.

Each model gets random weights (seeded), saved as a checkpoint in nnspec's format. Exports are
shared through module-scoped fixtures. VGG-16 takes 35 s and writes 553 MB here, so it is
exported with an eighth of its channels and widths; every other spec at its full size.
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import numpy as np
import onnxruntime
import pytest
import torch

from nnspec import cli
from nnspec.compiler.pipeline import check_file
from nnspec.export.model import build_model
from nnspec.export.samples import LENGTHS, symbols
from nnspec.export.verify import difference, expected

ROOT = pathlib.Path(__file__).parent.parent
SPECS = [*sorted((ROOT / "specs").glob("*.nn")), *sorted((ROOT / "examples").glob("*.nn"))]
SPECS += sorted((ROOT / "tests" / "export_specs").glob("*.nn"))  # layouts no shipped spec has
NARROWER = {"vgg16.nn": 8, "alexnet.nn": 4}  # slow at full size: channels and widths divided by this
ROUND_TRIPS = ["examples/iris.nn", "examples/digits_resnet.nn", "specs/seed_gru.nn", "specs/seed_rnn.nn"]


def run(*argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `nnspec *argv` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def narrower(text: str, factor: int) -> str:
    """The spec with every width (a call's first integer argument of 16 or more) divided."""
    return re.sub(r"(\w+)\((\d+)", lambda m: f"{m[1]}({int(m[2]) // factor if int(m[2]) >= 16 else m[2]}", text)


def spec_path(path: pathlib.Path, folder: pathlib.Path) -> pathlib.Path:
    if path.name not in NARROWER:
        return path
    small = folder / path.name.replace(".nn", "_narrow.nn")
    small.write_text(narrower(path.read_text(), NARROWER[path.name]))
    return small


def model_of(spec: pathlib.Path, model: str | None = None):
    """(program, graph, a fresh model with seeded random weights) as `nnspec export` picks it."""
    result = check_file(str(spec))
    assert result.ok, [d.message for d in result.diagnostics]
    graph = cli._pick_model(result.program, model)
    torch.manual_seed(0)
    return result.program, graph, build_model(result.program, graph).eval()


def save_checkpoint(model, path: pathlib.Path, classes=None, normalization=None) -> str:
    """A checkpoint in the format `nnspec run` writes (the keys load_checkpoint requires)."""
    state = {"model": model.state_dict(), "classes": classes, "normalization": normalization, "data": {}}
    torch.save(state, path)
    return str(path)


class Exported:
    """One spec exported through the command line, and what the test needs to check the file."""

    def __init__(self, spec: pathlib.Path, folder: pathlib.Path, suffix: str, *options: str):
        self.spec = spec_path(spec, folder)
        self.program, self.graph, self.model = model_of(self.spec)
        self.checkpoint = save_checkpoint(self.model, folder / f"{self.spec.stem}.pt")
        self.output = str(folder / f"{self.spec.stem}{suffix}")
        self.code, self.out, self.err = run(
            "export", str(self.spec), "--checkpoint", self.checkpoint, "-o", self.output, *options
        )

    def inputs(self, batch: int, length: int) -> tuple:
        """New random inputs: `batch` samples, every symbolic size `length` (+1 for the next)."""
        env = {name: length + k for k, name in enumerate(symbols(self.graph))}
        generator = torch.Generator().manual_seed(1)
        tensors = []
        for item in self.graph.inputs:
            dims = [env.get(d, d) for d in item.shape.dims]
            dims.insert(item.shape.batch, batch)  # the batch where the input's layout puts it
            long = item.shape.dtype == "long"
            tensors.append(
                torch.randint(0, 2, dims, generator=generator) if long else torch.randn(dims, generator=generator)
            )
        return tuple(tensors)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """exports(spec, suffix) -> Exported, each export made once per module."""
    folder = tmp_path_factory.mktemp("export")
    made: dict = {}

    def get(spec: pathlib.Path, suffix: str = ".onnx") -> Exported:
        if (spec, suffix) not in made:
            made[spec, suffix] = Exported(spec, folder, suffix)
        return made[spec, suffix]

    return get


def onnx_outputs(path: str, names: list[str], tensors: tuple) -> list:
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {n: t.numpy() for n, t in zip(names, tensors)})


@pytest.mark.parametrize("spec", SPECS, ids=[p.name for p in SPECS])
def test_every_spec_exports_to_verified_onnx(spec, exports):
    done = exports(spec)
    assert (done.code, done.err) == (0, "")
    assert "verified" in done.out
    session = onnxruntime.InferenceSession(done.output, providers=["CPUExecutionProvider"])
    names = [i.name for i in done.graph.inputs]
    assert [i.name for i in session.get_inputs()] == names
    for item, onnx_input in zip(done.graph.inputs, session.get_inputs()):
        assert onnx_input.shape == item.shape.labels()  # a dynamic batch "N", symbolic sizes by name
    # Again here, at sizes the export neither traced (3, LENGTHS[0]) nor checked (5 and 1).
    tensors = done.inputs(4, LENGTHS[0] + 2)
    outputs = [name for name, _, _ in done.graph.outputs]
    _, problem = difference(outputs, expected(done.model, tensors), onnx_outputs(done.output, names, tensors))
    assert problem is None


def test_onnx_metadata_says_where_it_comes_from(exports):
    import json

    import onnx

    done = exports(ROOT / "examples" / "iris.nn")
    model = onnx.load(done.output)
    assert not (pathlib.Path(done.output).parent / "iris.onnx.data").exists()  # the weights are inside
    meta = json.loads({p.key: p.value for p in model.metadata_props}["nnspec"])
    assert meta["generator"].startswith("nnspec ")
    assert (meta["model"], meta["inputs"], meta["outputs"]) == ("IrisNet", {"x": ["N", 4]}, {"output": ["N", 3]})


@pytest.mark.parametrize("spec", ROUND_TRIPS)
def test_exported_program_round_trip(spec, exports):
    done = exports(ROOT / spec, ".pt2")
    assert (done.code, done.err) == (0, "")
    extra = {"nnspec.json": ""}
    program = torch.export.load(done.output, extra_files=extra)
    assert '"model":"' + done.graph.name in extra["nnspec.json"]
    for batch in (1, 4):
        tensors = done.inputs(batch, LENGTHS[0] + 2)
        with torch.no_grad():
            got = program.module()(*tensors)
        got = got if isinstance(got, tuple) else (got,)
        outputs = [name for name, _, _ in done.graph.outputs]
        assert difference(outputs, expected(done.model, tensors), list(got))[1] is None


def test_normalization_and_classes_travel_in_the_metadata(tmp_path):
    import json

    import onnx

    spec = ROOT / "examples" / "iris.nn"
    _, _, model = model_of(spec)
    stats = {"shift": torch.tensor([5.8, 3.0, 3.7, 1.2]), "scale": torch.tensor([0.8, 0.4, 1.7, 0.7])}
    checkpoint = save_checkpoint(model, tmp_path / "best.pt", ["setosa", "versicolor", "virginica"], stats)
    code, out, err = run("export", str(spec), "--checkpoint", checkpoint, "-o", str(tmp_path / "iris.onnx"))
    assert (code, err) == (0, "")
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "iris.onnx")).metadata_props}
    meta = json.loads(props["nnspec"])
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]
    assert np.allclose(meta["normalization"]["shift"], stats["shift"].numpy())


# --- what stops an export: a coded message, never a traceback --------------------------------

IRIS = ROOT / "examples" / "iris.nn"


@pytest.fixture(scope="module")
def iris_checkpoint(tmp_path_factory) -> str:
    _, _, model = model_of(IRIS)
    return save_checkpoint(model, tmp_path_factory.mktemp("iris") / "best.pt")


def export_iris(checkpoint: str, output, *options: str) -> tuple[int, str, str]:
    return run("export", str(IRIS), "--checkpoint", checkpoint, "-o", str(output), *options)


def code_of(err: str) -> str | None:
    assert "Traceback" not in err
    found = re.match(r"error\[(E\d{3})\]", err)
    return found[1] if found else None


def test_without_the_export_extra(iris_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)  # `import onnxruntime` fails
    code, out, err = export_iris(iris_checkpoint, tmp_path / "iris.onnx")
    assert (code, out, code_of(err)) == (1, "", "E621")
    assert "pip install 'nnspec[export]'" in err
    assert list(tmp_path.iterdir()) == []
    code, _, err = export_iris(iris_checkpoint, tmp_path / "iris.pt2")  # torch alone writes .pt2
    assert (code, err) == (0, "")


@pytest.mark.parametrize(
    "content", [b"", b"not a checkpoint", b"PK\x03\x04 truncated zip"], ids=["empty", "text", "zip"]
)
def test_a_broken_checkpoint(content, tmp_path):
    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(content)
    code, out, err = export_iris(str(checkpoint), tmp_path / "iris.onnx")
    assert (code, out, code_of(err)) == (1, "", "E608")
    assert not (tmp_path / "iris.onnx").exists()


def test_a_foreign_checkpoint(tmp_path):
    plain = tmp_path / "weights.pt"
    torch.save({"fc.weight": torch.zeros(3, 4)}, plain)  # a bare state_dict: not nnspec's format
    code, _, err = export_iris(str(plain), tmp_path / "iris.onnx")
    assert (code, code_of(err)) == (1, "E608")
    code, _, err = export_iris(str(tmp_path / "missing.pt"), tmp_path / "iris.onnx")
    assert (code, code_of(err)) == (1, "E501")


def test_a_checkpoint_of_another_model_names_the_tensors(tmp_path):
    _, _, other = model_of(ROOT / "examples" / "diabetes.nn")
    checkpoint = save_checkpoint(other, tmp_path / "diabetes.pt")
    code, _, err = export_iris(checkpoint, tmp_path / "iris.onnx")
    assert (code, code_of(err)) == (1, "E608")
    differing = [k for k, v in other.state_dict().items() if v.shape != model_of(IRIS)[2].state_dict()[k].shape]
    assert differing and differing[0] in err


@pytest.mark.parametrize("suffix", [".onnx", ".pt2"])
def test_an_existing_file_is_replaced_only_if_nnspec_wrote_it(suffix, iris_checkpoint, tmp_path):
    target = tmp_path / f"model{suffix}"
    target.write_bytes(b"someone's model")
    code, _, err = export_iris(iris_checkpoint, target)
    assert (code, code_of(err)) == (1, "E612")
    assert target.read_bytes() == b"someone's model"
    assert export_iris(iris_checkpoint, target, "--force")[0] == 0
    assert export_iris(iris_checkpoint, target)[0] == 0  # its own file: exported again without --force
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary folder left


def test_a_data_file_beside_the_target_is_kept(iris_checkpoint, tmp_path):
    (tmp_path / "model.onnx.data").write_bytes(b"someone's weights")
    code, _, err = export_iris(iris_checkpoint, tmp_path / "model.onnx")
    assert (code, code_of(err)) == (1, "E612")


def test_a_missing_folder(iris_checkpoint, tmp_path):
    code, _, err = export_iris(iris_checkpoint, tmp_path / "missing" / "iris.onnx")
    assert (code, code_of(err)) == (1, "E603")
    code, _, err = export_iris(iris_checkpoint, tmp_path)  # a folder, not a file
    assert (code, code_of(err)) == (1, "E603")


def test_large_weights_go_to_a_data_file_beside(iris_checkpoint, tmp_path, monkeypatch):
    from nnspec.export import onnx_file

    monkeypatch.setattr(onnx_file, "LARGE", 0)  # as if the weights were over 1.5 GB
    code, out, err = export_iris(iris_checkpoint, tmp_path / "iris.onnx")
    assert (code, err) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.onnx", "iris.onnx.data"]
    assert "iris.onnx.data" in out  # the user is told
    tensors = (torch.randn(2, 4),)
    _, _, model = model_of(IRIS)
    model.load_state_dict(torch.load(iris_checkpoint)["model"])
    assert (
        difference(["output"], expected(model, tensors), onnx_outputs(str(tmp_path / "iris.onnx"), ["x"], tensors))[1]
        is None
    )


def test_no_verify_writes_unchecked(iris_checkpoint, tmp_path):
    code, out, err = export_iris(iris_checkpoint, tmp_path / "iris.onnx", "--no-verify")
    assert (code, err) == (0, "")
    assert "not verified" in out and (tmp_path / "iris.onnx").exists()


# --- what ONNX or torch.export cannot do: the layer and its line -----------------------------


def export_spec(tmp_path, text: str, *options: str) -> tuple[int, str, str]:
    spec = tmp_path / "pool.nn"
    spec.write_text(text)
    _, _, model = model_of(spec)
    return run("export", str(spec), "--checkpoint", save_checkpoint(model, tmp_path / "best.pt"), *options)


def test_a_layer_that_fixes_a_symbolic_size(tmp_path):
    """torch.export (2.13) fixes the length of MaxPool1d's input; MaxPool2d keeps its sizes free."""
    code, out, err = export_spec(tmp_path, "model Net {\n    input x: [4, L]\n    output x -> MaxPool1d(3)\n}\n")
    assert (code, out, code_of(err)) == (1, "", "E622")
    assert "`output` (MaxPool1d, " in err and "pool.nn:3" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "pool.nn"]


def test_a_layer_onnx_computes_differently(tmp_path):
    """torch's ONNX form of adaptive pooling holds only at the traced length; the .pt2 is right."""
    text = "model Net {\n    input x: [4, L]\n    output x -> AdaptiveAvgPool1d(3)\n}\n"
    code, _, err = export_spec(tmp_path, text, "-o", str(tmp_path / "pool.onnx"))
    assert (code, code_of(err)) == (1, "E623")
    assert "`output` (AdaptiveAvgPool1d, " in err
    assert not (tmp_path / "pool.onnx").exists()
    assert export_spec(tmp_path, text, "-o", str(tmp_path / "pool.pt2"))[0] == 0


def test_a_symbolic_size_the_model_takes_at_one_value(tmp_path):
    code, _, err = export_spec(tmp_path, "model Net {\n    input x: [T, 4]\n    output x -> Reshape([12])\n}\n")
    assert (code, code_of(err)) == (1, "E626")


def test_export_help_imports_no_torch(tmp_path):
    import json
    import subprocess
    import sys

    from tests.test_cli import HEAVY, PROBE

    probe = PROBE.format(heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", probe, "export", "--help"], capture_output=True, text=True, cwd=ROOT)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert (report["code"], report["heavy"]) == (0, [])
