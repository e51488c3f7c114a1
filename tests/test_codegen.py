"""`nnspec compile`: the generated program is deterministic, black-stable, pyflakes-clean and
standalone; its models match `nnspec summary`; every example trains; data errors exit cleanly.

Slow parts (two-epoch runs of the examples, a second compile in another interpreter) run as
subprocesses in a small thread pool, started by the first test (it needs them), while the
in-process tests go on.
"""

from __future__ import annotations

import ast
import concurrent.futures
import csv
import difflib
import functools
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path

import pyflakes.api
import pyflakes.reporter
import pytest
import torch
from PIL import Image
from torch import nn

from nnspec import cli
from nnspec.compiler.codegen import Target, black_format, generate, generate_models, generate_split, support_module
from nnspec.compiler.codegen.comments import comments_above
from nnspec.compiler.pipeline import check_file
from nnspec.compiler.schema import DATA, TRAIN
from nnspec.compiler.settings import pick
from nnspec.compiler.summary import summarize
from nnspec.compiler.walk import flat_nodes, output_shapes
from nnspec.files import GENERATED_MARK
from nnspec.kinds.base import Shape
from nnspec.kinds.layer import LAYERS
from tests import torch_oracle
from tests.support import run_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
SPECS = sorted([*(ROOT / "specs").glob("*.nn"), *EXAMPLES.glob("*.nn")])
EXAMPLE_SPECS = sorted(EXAMPLES.glob("*.nn"))
GOLDEN_THREADS = 2  # torch threads of the runs tests/golden/metrics/ holds
GOLDEN_SPECS = [
    EXAMPLES / "iris.nn",
    EXAMPLES / "digits_resnet.nn",
    EXAMPLES / "digits_folders.nn",
    ROOT / "specs" / "resnet18.nn",
]
BATCH = 2
SYMBOL_SIZE = 7  # the size every symbolic dim (T) takes in a forward pass
HUGE = 100_000_000  # parameters; such a model is built on the meta device and not run (VGG-16)
RUNTIME_DEPENDENCIES = {"torch", "torchmetrics", "numpy", "PIL"}
# Optional packages a program imports only when its spec uses them: what the spec text shows.
OPTIONAL_DEPENDENCIES = {"kornia": r"^\s*augment\s*=", "safetensors": r'\.safetensors"'}
TIMEOUT = 300  # seconds for one subprocess; a hung run fails instead of stalling the suite
HELP_OPTIONS = ("--epochs", "--device", "--out", "--seed", "--lr", "--resume")


def spec_id(path: Path) -> str:
    return path.stem


# --- compiling the specs --------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """How a spec is compiled here: its one train section (if any), written for the spec's own
    folder, so that the output depends neither on the cwd nor on where the checkout lives."""

    spec: str
    train: str | None  # None: only the model classes
    script: str
    folder: str
    out: str


@functools.cache
def checked(path: Path):
    result = check_file(str(path))
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]
    return result


def job_for(path: Path) -> Job:
    trains = list(checked(path).program.trains)
    assert len(trains) <= 1, f"{path.name}: several train sections"
    train = trains[0] if trains else None
    script = f"train_{path.stem}.py" if train else f"{path.stem}.py"
    return Job(str(path), train, script, str(path.parent), f"runs/{path.stem}")


def render(job: Job, format: bool = True) -> str:
    program = check_file(job.spec).program
    if job.train is None:
        return generate_models(program, job.script, format)
    return generate(program, program.trains[job.train], Target(job.script, job.folder, job.out), format)


# render(job, format=False) in a fresh interpreter with another hash seed and another cwd.
# Unformatted: black is slow (about 1 s per training program) and deterministic itself.
RENDER_ELSEWHERE = """
import json, sys
from nnspec.compiler.codegen import Target, generate, generate_models
from nnspec.compiler.pipeline import check_file

sources = {}
for job in json.load(sys.stdin):
    program = check_file(job["spec"]).program
    if job["train"] is None:
        sources[job["spec"]] = generate_models(program, job["script"], False)
    else:
        target = Target(job["script"], job["folder"], job["out"])
        sources[job["spec"]] = generate(program, program.trains[job["train"]], target, False)
json.dump(sources, sys.stdout)
"""


@functools.cache
def compiled(path: Path) -> str:
    return render(job_for(path))


@functools.cache
def compiled_files(path: Path) -> dict:
    """What `nnspec compile -o` writes for the spec: file name -> text (a training program and
    its support file; a models-only spec's one file)."""
    job = job_for(path)
    if job.train is None:
        return {job.script: compiled(path)}
    program = check_file(job.spec).program
    source, support = generate_split(program, program.trains[job.train], Target(job.script, job.folder, job.out))
    return {job.script: source, f"{support_module(job.script)}.py": support}


def every_file(path: Path) -> list[tuple[str, str]]:
    """(file name, text) of the spec's one-file program and of its two-file form."""
    return [(job_for(path).script, compiled(path)), *(compiled_files(path).items())]


@functools.cache
def namespace(path: Path) -> dict:
    """The generated file executed as a module that is not __main__ (main() does not run)."""
    job = job_for(path)
    scope = {"__name__": f"generated_{path.stem}", "__file__": os.path.join(job.folder, job.script)}
    exec(compile(compiled(path), job.script, "exec"), scope)
    return scope


def trained_models(path: Path) -> list[str]:
    """The model classes the generated file defines: the train section's model, else every model."""
    program = checked(path).program
    job = job_for(path)
    if job.train is None:
        return list(program.models)
    return [pick(program.trains[job.train], "model", program.models).name]


MODEL_CASES = [(path, name) for path in SPECS for name in trained_models(path)]
MODEL_IDS = [f"{path.stem}-{name}" for path, name in MODEL_CASES]


# --- subprocesses in the background ---------------------------------------------------------


def run(args: list[str], cwd: Path, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, input=input, capture_output=True, text=True, timeout=TIMEOUT)


def standalone_env() -> dict:
    """`python -S` reads no .pth file, so nnspec's editable install is invisible; PYTHONPATH
    gives the virtualenv's site-packages (torch, numpy, torchmetrics) back."""
    paths = sysconfig.get_paths()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([paths["purelib"], paths["platlib"]]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["OMP_NUM_THREADS"] = "1"  # several runs share the cores
    return env


@dataclass
class Background:
    pool: concurrent.futures.ThreadPoolExecutor
    rerendered: concurrent.futures.Future  # every spec compiled again in another interpreter


@pytest.fixture(scope="module")
def background(tmp_path_factory):
    """Subprocesses, a few at a time. The first job compiles every spec again in a fresh
    interpreter with another hash seed and another cwd, for test_deterministic."""
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=3)
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    jobs = json.dumps([asdict(job_for(path)) for path in SPECS])
    rerendered = executor.submit(
        run, [sys.executable, "-c", RENDER_ELSEWHERE], tmp_path_factory.mktemp("cwd"), env, jobs
    )
    yield Background(executor, rerendered)
    executor.shutdown(wait=True, cancel_futures=True)


# Runs generated programs one after another in one interpreter, each as __main__ (runpy): a
# process pays about 6 s for importing torch, torchmetrics and torch._dynamo (which the first
# optimizer loads), while an example's epoch takes well under a second.
RUN_IN_TURN = """
import contextlib, io, json, runpy, sys, traceback

RESULTS, results = sys.argv[1], {}
for name, argv in json.load(sys.stdin):
    out, err, code = io.StringIO(), io.StringIO(), 0
    sys.argv = argv
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(argv[0], run_name="__main__")
        except SystemExit as e:  # as the interpreter handles it
            if e.code is not None and not isinstance(e.code, int):
                print(e.code, file=sys.stderr)
            code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
        except BaseException:
            traceback.print_exc()
            code = 1
    results[name] = {"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()}
with open(RESULTS, "w") as f:
    json.dump(results, f)
"""


@dataclass
class Examples:
    folder: Path  # a copy of examples/, the compiled programs next to the specs
    codes: dict  # stem -> exit code of `nnspec compile`
    standalone: concurrent.futures.Future  # CompletedProcess: train_iris.py in its own process
    probe: concurrent.futures.Future  # CompletedProcess: what that environment can import
    in_turn: concurrent.futures.Future  # CompletedProcess: RUN_IN_TURN over every example
    results: Path  # what RUN_IN_TURN found, by example

    def run(self, stem: str) -> subprocess.CompletedProcess:
        runner = self.in_turn.result()
        assert runner.returncode == 0, runner.stderr
        result = json.loads(self.results.read_text())[stem]
        return subprocess.CompletedProcess(stem, result["returncode"], result["stdout"], result["stderr"])

    def run_folder(self, stem: str) -> Path:
        return self.folder.parent / "runs" / stem


def starts_from_checkpoint(spec: Path) -> bool:
    return any(train.values["from"] is not None for train in checked(spec).program.trains.values())


@pytest.fixture(scope="module")
def examples(tmp_path_factory, background) -> Examples:
    """A copy of the checkout's examples/ and runs/ layout with every example's program next to
    its spec (iris's written by the CLI, the others as compiled_files() gives them: black costs about
    a second per compile). With `python -S` from examples/, nnspec not importable: train_iris.py
    runs on its own into `run`, and RUN_IN_TURN runs every example for two epochs into
    ../runs/<stem>, as `nnspec run` from the repository root would; examples that start `from`
    a checkpoint (../runs/iris/best.pt) come last."""
    folder = tmp_path_factory.mktemp("checkout") / "examples"
    shutil.copytree(EXAMPLES / "data", folder / "data")
    codes = {}
    for spec in EXAMPLE_SPECS:
        shutil.copy(spec, folder / spec.name)
        script = folder / f"train_{spec.stem}.py"
        if spec.stem == "iris":
            codes[spec.stem] = cli.main(["compile", str(folder / spec.name), "-o", str(script)])
        else:
            for name, text in compiled_files(spec).items():
                (folder / name).write_text(text, encoding="utf-8")
            codes[spec.stem] = 0
    env, python, pool = standalone_env(), [sys.executable, "-S"], background.pool
    standalone = pool.submit(run, [*python, "train_iris.py", "--epochs", "1", "--out", "run"], folder, env)
    # torch is there (find_spec does not pay for importing it), nnspec is not.
    probe = "import importlib.util\nprint(importlib.util.find_spec('torch') is not None)\nimport nnspec"
    probe = pool.submit(run, [*python, "-c", probe], folder, env)
    order = sorted(EXAMPLE_SPECS, key=starts_from_checkpoint)
    # Two epochs on the CPU: the runs tests/golden/metrics/ was written from.
    trains = ["--epochs", "2", "--device", "cpu"]
    argvs = [[spec.stem, [f"train_{spec.stem}.py", *trains, "--out", f"../runs/{spec.stem}"]] for spec in order]
    results = folder.parent / "in_turn.json"
    # The golden metrics are from two threads (this machine's cores): convolutions and LSTMs
    # sum in another order with another thread count, and the last digits differ.
    threads = {**env, "OMP_NUM_THREADS": str(GOLDEN_THREADS)}
    in_turn = pool.submit(run, [*python, "-c", RUN_IN_TURN, str(results)], folder, threads, json.dumps(argvs))
    return Examples(folder, codes, standalone, probe, in_turn, results)


# --- the examples compile (starts their runs) ----------------------------------------------


def test_cli_compiles_iris_for_another_folder(examples):
    assert examples.codes["iris"] == 0
    written = {
        name: (examples.folder / name).read_text(encoding="utf-8") for name in compiled_files(EXAMPLES / "iris.nn")
    }
    assert list(written) == ["train_iris.py", "train_iris_support.py"]
    assert all(text.startswith(GENERATED_MARK) for text in written.values())
    # Written for a copy of examples/: the data path relative to it is the same, so the same bytes.
    assert written == compiled_files(EXAMPLES / "iris.nn")
    assert 'DATA_PATH = "data/iris.csv"' in written["train_iris.py"]


# --- every spec: the generated source -------------------------------------------------------


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_deterministic(background, path):
    result = background.rerendered.result()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[str(path)] == render(job_for(path), format=False)


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_black_stable(path):
    for name, source in every_file(path):
        assert black_format(source) == source, name


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_compiles_and_is_marked_generated(path):
    for name, source in every_file(path):
        compile(source, name, "exec")
        assert source.startswith(GENERATED_MARK)  # how `nnspec compile -o` recognises its own files
        assert source.endswith("\n") and not source.endswith("\n\n")


class Collect(pyflakes.reporter.Reporter):
    def __init__(self):
        super().__init__(io.StringIO(), io.StringIO())
        self.messages: list[str] = []

    def unexpectedError(self, filename, msg):
        self.messages.append(f"unexpected error: {msg}")

    def syntaxError(self, filename, msg, lineno, offset, text):
        self.messages.append(f"{lineno}:{offset}: syntax error: {msg}")

    def flake(self, message):
        self.messages.append(str(message))


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_pyflakes_clean(path):
    for name, source in every_file(path):
        reporter = Collect()
        pyflakes.api.check(source, name, reporter)
        assert reporter.messages == [], name


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_imports_only_stdlib_and_runtime_dependencies(path):
    files = dict(every_file(path))
    modules = set()
    for node in ast.walk(ast.parse("\n".join(files.values()))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    text = path.read_text(encoding="utf-8")
    allowed = RUNTIME_DEPENDENCIES | {m for m, used in OPTIONAL_DEPENDENCIES.items() if re.search(used, text, re.M)}
    own = {Path(name).stem for name in files}  # a program imports its support file
    assert {m for m in modules if m not in sys.stdlib_module_names} - own <= allowed


def top_level(source: str) -> dict:
    """Definitions and assignments by name, as text."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found[node.name] = ast.unparse(node)
        elif isinstance(node, ast.Assign):
            found[node.targets[0].id] = ast.unparse(node)
    return found


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=spec_id)
def test_the_two_files_hold_the_one_files_definitions(spec):
    """Each definition of the one-file program is in exactly one of the two files, unchanged, and
    the program imports from the support file only what that defines."""
    program, support = compiled_files(spec).values()
    ours, theirs = top_level(program), top_level(support)
    assert not ours.keys() & theirs.keys()
    assert {**ours, **theirs} == top_level(compiled(spec))
    imported = next(
        node for node in ast.walk(ast.parse(program)) if isinstance(node, ast.ImportFrom) and "_support" in node.module
    )
    assert {alias.name for alias in imported.names} <= theirs.keys()


# --- every model: the generated classes against the summary ----------------------------------


def is_huge(path: Path, name: str) -> bool:
    return summarize(checked(path).program.models[name]).total > HUGE


def device_for(path: Path, name: str) -> str:
    """The meta device (no memory, no initialisation) for huge models; real weights otherwise:
    some operations on meta tensors import torch._dynamo, which costs seconds."""
    return "meta" if is_huge(path, name) else "cpu"


@functools.cache
def build(path: Path, name: str) -> nn.Module:
    torch.manual_seed(0)
    with torch.device(device_for(path, name)):
        return namespace(path)[name]().eval()


def owner(key: str, layers) -> str | None:
    """The layer a state_dict key belongs to: the longest layer name it starts with."""
    return max((n for n in layers if key.startswith(n + ".")), key=len, default=None)


@pytest.mark.parametrize("path,name", MODEL_CASES, ids=MODEL_IDS)
def test_parameters_and_state_dict_match_summary(path, name):
    summary = summarize(checked(path).program.models[name])
    model = build(path, name)
    assert sum(p.numel() for p in model.parameters()) == summary.total
    layers = {r.name: r for r in summary.rows if not r.is_block and not r.recursive}  # a module once
    keys = list(model.state_dict())
    assert [k for k in keys if owner(k, layers) is None] == []  # every key belongs to a summary row
    counted = {}
    for key, param in model.named_parameters():
        layer = owner(key, layers)
        counted[layer] = counted.get(layer, 0) + param.numel()
    assert counted == {n: r.params for n, r in layers.items() if r.params}  # row by row


@pytest.mark.parametrize("path,name", MODEL_CASES, ids=MODEL_IDS)
def test_layers_keep_every_argument(path, name):
    """Each layer is the module its checked arguments build: no option dropped or changed, no
    layer missing, no module the summary does not show."""
    graph = checked(path).program.models[name]
    model = build(path, name)
    rows = {row: node for row, _, node in flat_nodes(graph)}
    for row, node in rows.items():
        kind = None if node.is_block else LAYERS.get(node.kind)
        if kind is not None and kind.torch_class:
            with torch.device(device_for(path, name)):
                expected = torch_oracle.build(kind, node.args)
            assert repr(model.get_submodule(row)) == repr(expected), row
    leaves = [row for row, node in rows.items() if not node.is_block]
    for module_name, module in model.named_modules():
        if module_name and module_name not in rows and not owner(module_name, leaves):
            assert type(module) is nn.Sequential, f"{module_name}: {type(module).__name__} is not in the summary"


def concrete(shape: Shape) -> Shape:
    return shape.with_dims(SYMBOL_SIZE if isinstance(d, str) else d for d in shape.dims)


FORWARD_CASES = [
    (
        pytest.param(
            path, name, marks=pytest.mark.skip(reason="seconds of CPU; its shapes are checked by test_reference_specs")
        )
        if is_huge(path, name)
        else (path, name)
    )
    for path, name in MODEL_CASES
]


@pytest.mark.parametrize("path,name", FORWARD_CASES, ids=MODEL_IDS)
def test_forward_gives_the_predicted_shapes(path, name):
    graph = checked(path).program.models[name]
    model = build(path, name)
    torch.manual_seed(0)
    inputs = [torch_oracle.sample(concrete(i.shape), BATCH) for i in graph.inputs]
    with torch.no_grad():
        out = model(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    expected = [(BATCH, *concrete(shape).dims) for shape in output_shapes(graph).values()]
    assert [tuple(o.shape) for o in outs] == expected
    assert all(torch.isfinite(o).all() for o in outs)


# --- golden files -----------------------------------------------------------------------------


def golden_files(path: Path) -> dict:
    """tests/golden/<stem>.py (and <stem>_support.py) by what `nnspec compile -o` writes."""
    files = compiled_files(path)
    script = job_for(path).script
    return {GOLDEN / name.replace(Path(script).stem, path.stem, 1): text for name, text in files.items()}


@pytest.mark.parametrize("path", GOLDEN_SPECS, ids=spec_id)
def test_golden(path, request):
    for golden, text in golden_files(path).items():
        source = text.encode("utf-8")
        if request.config.getoption("--update-golden"):
            golden.parent.mkdir(exist_ok=True)
            golden.write_bytes(source)
        assert golden.exists(), "write it with: pytest tests/test_codegen.py --update-golden"
        if golden.read_bytes() != source:
            diff = difflib.unified_diff(
                golden.read_text().splitlines(True), text.splitlines(True), str(golden), "generated"
            )
            pytest.fail(
                f"{golden.name} differs; if the change is intended: pytest tests/test_codegen.py --update-golden\n"
                + "".join(list(diff)[:60])
            )


# --- the examples train, standalone ----------------------------------------------------------


def metrics_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=spec_id)
def test_example_trains(examples, spec):
    result = examples.run(spec.stem)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    folder = examples.run_folder(spec.stem)
    rows = metrics_rows(folder / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["1", "2"]
    for column in ("train_loss", "val_loss"):
        assert math.isfinite(float(rows[0][column])), rows[0]
    assert (folder / "last.pt").is_file() and (folder / "best.pt").is_file()
    assert "test_loss=" in result.stdout  # every example has a test split: evaluated once at the end


def test_every_example_has_golden_metrics():
    assert sorted(p.stem for p in (GOLDEN / "metrics").glob("*.csv")) == [spec.stem for spec in EXAMPLE_SPECS]


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=spec_id)
def test_example_metrics_are_those_from_before_the_restructuring(examples, spec):
    """Same seed, CPU, two epochs: every value of metrics.csv as tests/golden/metrics/ has it,
    written before the program was assembled from nnspec/program/ (iris_finetune starts from
    iris's best.pt of the same run)."""
    assert examples.run(spec.stem).returncode == 0
    assert metrics_rows(examples.run_folder(spec.stem) / "metrics.csv") == metrics_rows(
        GOLDEN / "metrics" / f"{spec.stem}.csv"
    )


def test_standalone_without_nnspec(examples):
    probe = examples.probe.result()
    assert probe.stdout == "True\n", probe.stderr  # torch is importable there
    assert probe.returncode != 0 and "No module named 'nnspec'" in probe.stderr  # nnspec is not
    result = examples.standalone.result()
    assert result.returncode == 0, result.stderr
    folder = examples.folder / "run"
    assert {"metrics.csv", "last.pt", "best.pt"} <= {p.name for p in folder.iterdir()}
    lines = (folder / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,train_loss,val_loss,train_accuracy")
    assert len(lines) == 2


def test_a_program_copied_without_its_support_file_says_so(examples, tmp_path):
    shutil.copy(examples.folder / "train_iris.py", tmp_path / "train_iris.py")
    result = run([sys.executable, "-S", "train_iris.py"], tmp_path, standalone_env())
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == "error[E501]: train_iris_support.py: no such file beside this program\n"


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit:
        namespace(EXAMPLES / "iris.nn")["main"](["--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    for option in HELP_OPTIONS:
        assert option in out


# --- the command line -------------------------------------------------------------------------

SMALL = """\
data blobs {
    source = synthetic(features=4, classes=3)
}
model Small {
    input x: [4]
    output x -> Linear(3)
}
train {
    data      = blobs
    loss      = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
}
"""

MODELS_ONLY = """\
model Small {
    input x: [4]
    output x -> Linear(3)
}
"""

TWO_TRAINS = (
    SMALL.replace("train {", "train fast {")
    + """
train slow {
    data      = blobs
    loss      = CrossEntropyLoss()
    optimizer = SGD(lr=0.001)
}
"""
)

BROKEN = """\
model M {
    input x: [4]
    h = x -> Linear(16) -> ReLU()
    output h -> Linear(8, 3)
}
"""

TWO_INPUTS = """\
data blobs {
    source = synthetic(features=4, classes=3)
}
model Two {
    input a: [2], b: [2]
    output Concat(a, b, dim=1) -> Linear(3)
}
train {
    data      = blobs
    model     = Two
    loss      = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
}
"""

TWO_IN_TWO_OUT = """\
model Fork {
    input a: [2], b: [T, 3]
    h = Concat(a, b -> LastStep(), dim=1) -> Linear(8) -> ReLU()
    output logits: h -> Linear(3)
    output score: h -> Linear(1)
}
"""


nnspec = run_cli


# Models-only specs where the output does not matter: black takes about a second per program.


def test_compile_to_stdout(write, capsys):
    code, out, err = nnspec(capsys, "compile", write(MODELS_ONLY))
    assert (code, err) == (0, "")
    assert out.startswith(GENERATED_MARK) and "class Small(nn.Module):" in out


def test_refuses_to_overwrite_a_file_it_did_not_write(write, tmp_path, capsys):
    mine = tmp_path / "model.py"
    mine.write_text("print('written by hand')\n")
    code, _, err = nnspec(capsys, "compile", write(MODELS_ONLY), "-o", str(mine))
    assert code == 1
    assert "--force" in err
    assert mine.read_text() == "print('written by hand')\n"
    code, _, _ = nnspec(capsys, "compile", write(MODELS_ONLY), "-o", str(mine), "--force")
    assert code == 0
    assert mine.read_text().startswith(GENERATED_MARK)


def test_recompiles_over_its_own_output(write, tmp_path, capsys):
    out = tmp_path / "model.py"
    assert nnspec(capsys, "compile", write(MODELS_ONLY), "-o", str(out))[0] == 0
    assert "nn.Linear(4, 3)" in out.read_text()
    assert nnspec(capsys, "compile", write(MODELS_ONLY.replace("Linear(3)", "Linear(5)")), "-o", str(out))[0] == 0
    assert "nn.Linear(4, 5)" in out.read_text()


def test_spec_with_errors_writes_nothing(write, tmp_path, capsys):
    out = tmp_path / "model.py"
    code, stdout, err = nnspec(capsys, "compile", write(BROKEN), "-o", str(out))
    assert code == 1
    assert "error[E401]" in err and stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.nn"]  # no output, no temporary file


def test_several_train_sections_need_train(write, tmp_path, capsys):
    spec, out = write(TWO_TRAINS), tmp_path / "train.py"
    code, _, err = nnspec(capsys, "compile", spec, "-o", str(out))
    assert code == 2 and "--train" in err and "fast" in err and "slow" in err
    code, _, err = nnspec(capsys, "compile", spec, "-o", str(out), "--train", "medium")
    assert code == 2 and "medium" in err
    assert not out.exists()
    assert nnspec(capsys, "compile", spec, "-o", str(out), "--train", "slow")[0] == 0
    assert "(train `slow`)" in out.read_text().splitlines()[0]
    assert "LR = 0.001" in out.read_text()


def test_untrainable_model_fails_closed_at_the_model_line(write, tmp_path, capsys):
    """A train section the program cannot drive (two inputs) is E507 where `model =` names it."""
    spec, out = write(TWO_INPUTS, "two.nn"), tmp_path / "train.py"
    lines = TWO_INPUTS.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.strip().startswith("model ") and "=" in text)
    col = lines[line - 1].index("Two") + 1
    code, _, err = nnspec(capsys, "compile", spec, "-o", str(out))
    assert code == 1
    assert "error[E507]" in err and f"two.nn:{line}:{col}" in err
    assert not out.exists()


def test_models_only_with_several_inputs_and_outputs(write, tmp_path, capsys):
    spec, out = write(TWO_IN_TWO_OUT, "fork.nn"), tmp_path / "fork.py"
    assert nnspec(capsys, "compile", spec, "-o", str(out))[0] == 0
    source = out.read_text()
    assert black_format(source) == source
    reporter = Collect()
    pyflakes.api.check(source, "fork.py", reporter)
    assert reporter.messages == []
    scope = {"__name__": "fork"}
    exec(compile(source, "fork.py", "exec"), scope)
    model = scope["Fork"]().eval()
    graph = check_file(spec).program.models["Fork"]
    assert sum(p.numel() for p in model.parameters()) == summarize(graph).total
    with torch.no_grad():
        logits, score = model(torch.randn(BATCH, 2), torch.randn(BATCH, SYMBOL_SIZE, 3))
    assert (tuple(logits.shape), tuple(score.shape)) == ((BATCH, 3), (BATCH, 1))


# --- fail closed: every setting reaches the program ---------------------------------------

SETTINGS = """\
data d {
    source     = csv("data.csv")
    target     = "label"
    features   = ["a", "b", "c"]
    batch_size = 2
    # data option
}
data e {
    source = synthetic(features=3, classes=3)
}
model M {
    input x: [3]
    h = x -> Linear(8) -> ReLU()
    output h -> Linear(3)
}
model N {
    input x: [3]
    output x -> Linear(3)
}
train {
    model     = M
    data      = d
    loss      = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
    # prerequisite
    # train option
}
"""
SETTINGS_CSV = "a,b,c,label,other\n" + "".join(f"{i},{i % 5},{i % 3},{i % 3},{(i + 1) % 3}\n" for i in range(12))
DATA_OPTION, TRAIN_OPTION, PREREQUISITE = "    # data option", "    # train option", "    # prerequisite"
# (section, key) -> replacements in SETTINGS, each line for a line (line numbers are in the
# generated comments); all but the last make the baseline, the last changes `key` alone.
SETTING_CHANGES = {
    ("data", "source"): [('csv("data.csv")', 'csv("data2.csv")')],
    ("data", "features"): [('["a", "b", "c"]', '["c", "b", "a"]')],
    ("data", "target"): [('"label"', '"other"')],
    ("data", "split"): [(DATA_OPTION, "    split = { train: 0.5, val: 0.5 }")],
    ("data", "batch_size"): [("batch_size = 2", "batch_size = 3")],
    ("data", "shuffle"): [(DATA_OPTION, "    shuffle = false")],
    ("data", "drop_last"): [(DATA_OPTION, "    drop_last = true")],
    ("data", "normalize"): [(DATA_OPTION, '    normalize = "standard"')],
    ("data", "num_classes"): [(DATA_OPTION, "    num_classes = 3")],
    ("data", "one_hot"): [(DATA_OPTION, "    one_hot = true")],
    ("train", "model"): [("model     = M", "model     = N")],
    ("train", "data"): [("data      = d", "data      = e")],
    ("train", "loss"): [("CrossEntropyLoss()", "CrossEntropyLoss(label_smoothing=0.1)")],
    ("train", "optimizer"): [("SGD(lr=0.1)", "SGD(lr=0.1, momentum=0.9)")],
    ("train", "scheduler"): [(TRAIN_OPTION, "    scheduler = StepLR(5)")],
    ("train", "epochs"): [(TRAIN_OPTION, "    epochs = 3")],
    ("train", "metrics"): [(TRAIN_OPTION, "    metrics = [Accuracy()]")],
    ("train", "device"): [(TRAIN_OPTION, '    device = "cpu"')],
    ("train", "seed"): [(TRAIN_OPTION, "    seed = 1")],
    ("train", "monitor"): [(TRAIN_OPTION, '    monitor = "train_loss"')],
    ("train", "mode"): [(PREREQUISITE, '    monitor = "train_loss"'), (TRAIN_OPTION, '    mode = "max"')],
    ("train", "patience"): [(TRAIN_OPTION, "    patience = 3")],
    ("train", "clip_grad_norm"): [(TRAIN_OPTION, "    clip_grad_norm = 1.0")],
    ("train", "accumulate"): [(TRAIN_OPTION, "    accumulate = 2")],
    ("train", "init"): [(TRAIN_OPTION, '    init = { "h.0": kaiming_normal(nonlinearity="relu") }')],
    ("train", "from"): [(TRAIN_OPTION, '    from = "ckpt.pt"')],
    ("train", "skip_mismatched"): [
        (PREREQUISITE, '    from = "ckpt.pt"'),
        (TRAIN_OPTION, "    skip_mismatched = true"),
    ],
    ("train", "exclude"): [(PREREQUISITE, '    from = "ckpt.pt"'), (TRAIN_OPTION, '    exclude = ["h.*"]')],
    ("data", "augment"): [(DATA_OPTION, "    augment = [GaussianNoise(sigma=0.1)]")],
    ("train", "freeze"): [(TRAIN_OPTION, '    freeze = ["h.*"]')],
    ("train", "layer_lr"): [(TRAIN_OPTION, '    layer_lr = { "h.*": 0.01 }')],
    ("train", "precision"): [(TRAIN_OPTION, '    precision = "bf16"')],
    ("train", "compile"): [(TRAIN_OPTION, "    compile = true")],
    ("train", "sync_batchnorm"): [(TRAIN_OPTION, "    sync_batchnorm = true")],
}
CHECKED_BY_LINT_ONLY = {("train", "max_params"), ("train", "max_memory")}  # compile-time limits: nothing to render
STREAMING_KEYS = {("data", "in_memory"), ("data", "num_workers")}  # test_streaming_settings_reach_the_program
IMAGE_KEYS = {("data", "mean"), ("data", "std")}  # test_augment.test_channel_statistics_reach_the_program


def test_every_setting_has_a_change():
    keys = {(schema.name, p.name) for schema in (DATA, TRAIN) for p in schema.params}
    assert set(SETTING_CHANGES) | CHECKED_BY_LINT_ONLY | STREAMING_KEYS | IMAGE_KEYS == keys


def program_for(folder: Path, text: str) -> str:
    (folder / "spec.nn").write_text(text, encoding="utf-8")
    result = check_file(str(folder / "spec.nn"))
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics if d.is_error]
    program = result.program
    return generate(program, program.trains["train"], Target("train.py", str(folder), "runs/spec"), format=False)


@pytest.mark.parametrize(
    "key",
    [k for k in SETTING_CHANGES],
    ids=[f"{section}.{name}" for section, name in SETTING_CHANGES],
)
def test_setting_reaches_the_program(key, tmp_path):
    """Changing any data or train setting changes the generated program: none is dropped."""
    for name in ("data.csv", "data2.csv"):
        (tmp_path / name).write_text(SETTINGS_CSV)
    *prerequisites, (old, new) = SETTING_CHANGES[key]
    baseline = SETTINGS
    for before, after in prerequisites:
        baseline = baseline.replace(before, after)
    assert baseline.count(old) == 1
    assert program_for(tmp_path, baseline.replace(old, new)) != program_for(tmp_path, baseline)


STREAMING_SETTINGS = f"""\
data d {{
    source = images("img", size=[2, 2])
{DATA_OPTION}
}}
model M {{
    input x: [3, 2, 2]
    output x -> Flatten() -> Linear(2)
}}
train {{
    loss      = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
}}
"""


def test_streaming_settings_reach_the_program(tmp_path):
    for label in ("a", "b"):
        (tmp_path / "img" / label).mkdir(parents=True)
        for i in range(5):  # enough for a validation split
            Image.new("RGB", (2, 2)).save(tmp_path / "img" / label / f"{i}.png")
    texts = ["", "    in_memory = false", "    in_memory = false\n    num_workers = 2"]
    memory, streamed, workers = (program_for(tmp_path, STREAMING_SETTINGS.replace(DATA_OPTION, t)) for t in texts)
    assert "DataLoader(" not in memory and "DataLoader(" in streamed
    assert "num_workers" in streamed and workers != streamed


# --- data errors of generated programs: `error: ...`, exit 1, no traceback -------------------

TINY = """\
data tiny {
    source      = csv("data/tiny.csv")
    target      = "label"
    split       = { train: 0.5, val: 0.5 }
    batch_size  = 2
    num_classes = 2
}
model Tiny {
    input x: [2]
    output x -> Linear(2)
}
train {
    data      = tiny
    loss      = CrossEntropyLoss()
    optimizer = SGD(lr=0.1)
    epochs    = 1
}
"""
TINY_CSV = "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n"

DATA_ERRORS = {
    "missing_value": ("a,b,label\n1,2,0\n3,,1\n5,6,0\n7,8,1\n", "tiny.csv: column 'b': line 3: missing value"),
    "non_numeric": ("a,b,label\n1,2,0\n3,4,1\n5,six,0\n7,8,1\n", "tiny.csv: column 'b': line 4: not numeric ('six')"),
    "more_labels_than_num_classes": ("a,b,label\n1,2,0\n3,4,1\n5,6,2\n7,8,1\n", "the output scores only 2"),
    "missing_file": (None, "tiny.csv: no such file or folder"),
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The tiny spec compiled next to a CSV that is fine; tests run it on broken copies."""
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "data").mkdir()
    (folder / "data" / "tiny.csv").write_text(TINY_CSV)
    (folder / "tiny.nn").write_text(TINY)
    assert cli.main(["compile", str(folder / "tiny.nn"), "-o", str(folder / "train_tiny.py")]) == 0
    return folder / "train_tiny.py"


@pytest.mark.parametrize("case", DATA_ERRORS)
def test_data_error_exits_1_with_a_message(tiny, case, tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(tiny.parent))  # where `python train_tiny.py` finds its support file
    text, message = DATA_ERRORS[case]
    if text is not None:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "tiny.csv").write_text(text)
    scope = {"__name__": "generated_tiny", "__file__": str(tiny)}
    exec(compile(tiny.read_text(), str(tiny), "exec"), scope)
    with pytest.raises(SystemExit) as exit:  # anything else would be a traceback
        scope["main"](["--data-root", str(tmp_path), "--out", str(tmp_path / "run"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert exit.value.code == 1
    assert re.match(r"error\[E\d{3}\]: ", err) and message in err
    assert not (tmp_path / "run" / "metrics.csv").exists()


@pytest.mark.parametrize(
    "source, expected",
    [
        ("x = 1  # short\n", "x = 1  # short\n"),
        (f"    y = f({'a' * 80})  # why\n", f"    # why\n    y = f({'a' * 80})\n"),
        (f"s = '#{'b' * 90}'\n", f"s = '#{'b' * 90}'\n"),  # a '#' in a string is not a comment
        (f"# {'c' * 95}\n", f"# {'c' * 95}\n"),  # a long comment of its own stays
    ],
)
def test_a_comment_that_would_overflow_its_line_goes_above_it(source, expected):
    assert comments_above(source) == expected


def test_compile_writes_the_program_and_the_support_file_it_imports(tiny, tmp_path, capsys):
    """-o: the program and <stem>_support.py beside it, which it imports by name; --one-file
    and stdout: one file that imports nothing of its own."""
    support = tiny.with_name("train_tiny_support.py")
    program = tiny.read_text()
    assert support.read_text().startswith(GENERATED_MARK)
    assert "\n    from train_tiny_support import (\n" in program and "class Batches" not in program
    spec = str(tiny.with_name("tiny.nn"))
    one = tmp_path / "one.py"
    assert nnspec(capsys, "compile", spec, "-o", str(one), "--one-file")[0] == 0
    code, out, _ = nnspec(capsys, "compile", spec)
    assert code == 0
    for text in (one.read_text(), out):
        assert "_support import" not in text and "class Batches" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.py"]


def test_refuses_to_overwrite_a_support_file_it_did_not_write(tiny, tmp_path, capsys):
    spec = tiny.with_name("tiny.nn")
    mine = tmp_path / "train_support.py"
    mine.write_text("HELPERS = 1\n")
    code, _, err = nnspec(capsys, "compile", str(spec), "-o", str(tmp_path / "train.py"))
    assert code == 1 and "error[E612]" in err and "train_support.py" in err
    assert mine.read_text() == "HELPERS = 1\n" and not (tmp_path / "train.py").exists()  # nothing written
    assert nnspec(capsys, "compile", str(spec), "-o", str(tmp_path / "train.py"), "--force")[0] == 0
    assert mine.read_text().startswith(GENERATED_MARK)
