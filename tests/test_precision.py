"""`precision` and `compile` in the train section, through `nnspec run` on the CPU: bf16
autocast trains and resumes bit-exactly, fp16 is refused there, torch.compile matches eager."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.support import run_cli  # noqa: E402

SPEC = """\
data d {
    source = synthetic(samples=400, features=8, classes=3, noise=2.0)
    split = {train: 0.75, val: 0.25}
    batch_size = 16
}
model Net {
    input x: [8]
    h = x -> Linear(32) -> ReLU() -> BatchNorm1d()
    output h -> Linear(3)
}
train {
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.05, momentum=0.9)
    epochs = 3
    device = "cpu"
    seed = 3
"""
# bfloat16 keeps 8 bits of mantissa: the first epoch's mean losses stay this close to float32's.
BF16_TOLERANCE = 0.02
# torch.compile fuses and reorders float32 arithmetic.
COMPILE_TOLERANCE = 1e-4


def run(capsys, tmp_path: Path, name: str, extra: str, *argv) -> tuple[int, str]:
    spec = tmp_path / f"{name}.nn"
    spec.write_text(SPEC + extra + "}\n")
    code, _, err = run_cli(capsys, "run", str(spec), "--out", str(tmp_path / name), *argv)
    return code, err


def losses(folder: Path) -> list[tuple[float, float]]:
    with open(folder / "metrics.csv", newline="") as f:
        return [(float(r["train_loss"]), float(r["val_loss"])) for r in csv.DictReader(f)]


def weights(folder: Path) -> dict:
    return torch.load(folder / "last.pt", map_location="cpu", weights_only=True)["model"]


def test_bf16_trains_near_float32_and_resumes_exactly(tmp_path, capsys):
    assert run(capsys, tmp_path, "fp32", "")[0] == 0
    assert run(capsys, tmp_path, "bf16", '    precision = "bf16"\n')[0] == 0
    full, half = losses(tmp_path / "fp32"), losses(tmp_path / "bf16")
    assert half != full  # the forward ran in bfloat16
    assert half[0] == pytest.approx(full[0], rel=BF16_TOLERANCE)
    assert run(capsys, tmp_path, "resumed", '    precision = "bf16"\n', "--epochs", "2")[0] == 0
    assert run(capsys, tmp_path, "resumed", '    precision = "bf16"\n', "--resume", "--epochs", "3")[0] == 0
    assert losses(tmp_path / "resumed") == half
    a, b = weights(tmp_path / "bf16"), weights(tmp_path / "resumed")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_fp16_on_the_cpu_is_refused_pointing_to_bf16(tmp_path, capsys):
    code, err = run(capsys, tmp_path, "fp16", '    precision = "fp16"\n')
    assert (code, err.split(":")[0]) == (1, "error[E632]")
    assert "bf16" in err
    assert not (tmp_path / "fp16" / "last.pt").exists()


def test_compiled_training_matches_eager(tmp_path, capsys):
    assert run(capsys, tmp_path, "eager", "", "--epochs", "2")[0] == 0
    assert run(capsys, tmp_path, "compiled", "    compile = true\n", "--epochs", "2")[0] == 0
    for eager, compiled in zip(losses(tmp_path / "eager"), losses(tmp_path / "compiled"), strict=True):
        assert compiled == pytest.approx(eager, rel=COMPILE_TOLERANCE)


def test_compile_without_a_cpp_compiler_is_a_coded_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler")
    code, err = run(capsys, tmp_path, "nocxx", "    compile = true\n")
    assert (code, err.split(":")[0]) == (1, "error[E636]")


def test_fp16_scaler_state_resumes_exactly(tmp_path, capsys):
    """The fp16 program's GradScaler path, run on the CPU: its text edited to take the CPU's
    float16 autocast and GradScaler("cpu") (this machine has no CUDA); 3 epochs equal 2 + 1."""
    spec = tmp_path / "fp16.nn"
    spec.write_text(SPEC + '    precision = "fp16"\n}\n')
    assert run_cli(capsys, "compile", str(spec), "-o", str(tmp_path / "fp16.py"), "--one-file")[0] == 0  # edited below
    text = (tmp_path / "fp16.py").read_text()
    assert text.count('GradScaler("cuda")') == 1 and text.count('if device.type != "cuda":') == 1
    text = text.replace('GradScaler("cuda")', 'GradScaler("cpu")').replace('if device.type != "cuda":', "if False:")
    (tmp_path / "cpu.py").write_text(text)
    for argv in (["--out", "a"], ["--out", "b", "--epochs", "2"], ["--out", "b", "--epochs", "3", "--resume"]):
        done = subprocess.run([sys.executable, "cpu.py", *argv], cwd=tmp_path, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
    a, b = (torch.load(tmp_path / f / "last.pt", weights_only=True) for f in "ab")
    assert a["scaler"] == b["scaler"] and a["scaler"]["_growth_tracker"] > 0
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
