"""The training program and the language's newer parts: `freeze` written in a model, patterns
naming one parameter, a text source's per-position class targets, layouts the loop refuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from nnspec.compiler.pipeline import check_file
from nnspec.kinds.peeks import peek_text
from nnspec.program.sources.text_source import load_text
from tests.test_run import initial_weights, model_tensors, nnspec, rows, spec_text, write

REPO = Path(__file__).resolve().parent.parent
VERSE = REPO / "tests" / "errors" / "data" / "verse.txt"


def test_freeze_in_the_model_keeps_a_bias_and_a_batch_norm(tmp_path, capsys):
    """`freeze "h.0.bias", "h.1"` in the model: those stay as they start (batch norm's running
    statistics too), the rest trains; summary counts them without a train section's help."""
    text = spec_text().replace("Linear(16) -> ReLU()", "Linear(16) -> BatchNorm1d() -> ReLU()")
    text = text.replace("    output h -> Linear(3)", '    freeze "h.0.bias", "h.1"\n    output h -> Linear(3)')
    spec = write(tmp_path, text)
    start = initial_weights(spec)
    assert nnspec(capsys, "run", spec, "--out", tmp_path / "run", "--epochs", 2)[0] == 0
    after = model_tensors(tmp_path / "run" / "last.pt")
    for key in ("h.0.bias", "h.1.weight", "h.1.bias", "h.1.running_mean", "h.1.num_batches_tracked"):
        assert torch.equal(after[key], start[key]), key
    for key in ("h.0.weight", "output.weight"):
        assert not torch.equal(after[key], start[key]), key
    summary = json.loads(nnspec(capsys, "summary", spec, "--format", "json")[1])
    assert summary["total_params"] - summary["trainable_params"] == 16 + 32
    layer = next(r for r in summary["layers"] if r["name"] == "h.0")
    assert layer["trainable"] and layer["frozen_params"] == 16


def test_a_train_sections_freeze_may_name_one_parameter(tmp_path, capsys):
    spec = write(tmp_path, spec_text(extra='    freeze = ["output.bias"]\n'))
    start = initial_weights(spec)
    assert nnspec(capsys, "run", spec, "--out", tmp_path / "run", "--epochs", 1)[0] == 0
    after = model_tensors(tmp_path / "run" / "last.pt")
    assert torch.equal(after["output.bias"], start["output.bias"])
    assert not torch.equal(after["output.weight"], start["output.weight"])


def test_text_windows_and_their_next_characters():
    samples = load_text(str(VERSE), 16)
    text = VERSE.read_text(encoding="utf-8")
    assert samples.x.shape == samples.labels.shape == ((len(text) - 1) // 16, 16)
    assert torch.equal(samples.x[1:, 0], samples.labels[:-1, -1])  # windows follow each other
    assert "".join(samples.classes[i] for i in samples.x[0]) == text[:16]
    assert "".join(samples.classes[i] for i in samples.labels[0]) == text[1:17]
    peek = peek_text(str(VERSE), {"block_size": 16, "stride": None})  # lint reads what programs load
    assert (peek.samples, peek.features, peek.targets.shape) == (len(samples), (16,), (16,))
    assert peek.targets.count == len(samples.classes) == len(set(text))
    overlapping = load_text(str(VERSE), 16, stride=4)
    assert len(overlapping) == (len(text) - 17) // 4 + 1


GPT = """\
data verse {{
    source = text("verse.txt", block_size=16)
    split = {{ train: 0.8, val: 0.1, test: 0.1 }}
    batch_size = 8
}}
model Tiny {{
    input idx: long[16]
    wte = Embedding({v}, 16)
    head = Linear({v}, bias=false)
    head.weight = wte.weight
    x = idx -> wte -> PositionEmbedding(16) -> TransformerEncoderLayer(2, dim_feedforward=32, is_causal=true)
    output x -> LayerNorm() -> head
}}
train {{
    loss = CrossEntropyLoss()
    optimizer = Adam(lr=0.01)
    metrics = [Accuracy()]
    epochs = 3
    seed = 3
}}
"""


def test_a_character_model_trains_on_per_position_targets(tmp_path, capsys):
    """CrossEntropyLoss and Accuracy over (N, T, V) scores and (N, T) characters: the loss falls."""
    shutil.copy(VERSE, tmp_path / "verse.txt")
    spec = write(tmp_path, GPT.format(v=len(set(VERSE.read_text(encoding="utf-8")))))
    assert check_file(spec).ok
    assert nnspec(capsys, "run", spec, "--out", tmp_path / "run")[0] == 0
    losses = [float(r["train_loss"]) for r in rows(tmp_path / "run")]
    assert losses[-1] < losses[0] and all(0 <= float(r["val_accuracy"]) <= 1 for r in rows(tmp_path / "run"))
    code, out, _ = nnspec(capsys, "evaluate", spec, "--checkpoint", tmp_path / "run" / "best.pt")
    assert code == 0 and "accuracy" in out
    (tmp_path / "new.txt").write_text("To be or not to be, that is it.\n", encoding="utf-8")
    argv = ["predict", spec, "--checkpoint", tmp_path / "run" / "best.pt", "--input", tmp_path / "new.txt"]
    code, _, err = nnspec(capsys, *argv, "--output", tmp_path / "p.csv")
    assert code == 1 and "E507" in err and not (tmp_path / "p.csv").exists()


def test_a_sequence_major_model_is_not_trained(tmp_path, capsys):
    text = spec_text().replace("    input x: [8]\n", "    input x: [8]\n    s = x -> Unsqueeze(0)\n")
    text = text.replace("h = x -> Linear(16)", "h = s -> Linear(16)")
    code, out, _ = nnspec(capsys, "lint", "--format", "concise", write(tmp_path, text))
    assert code == 1 and "E507" in out
