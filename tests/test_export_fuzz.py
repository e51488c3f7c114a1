"""`nnspec export` of random registry-driven specs (the differential fuzz's strategy) to ONNX.

A fixed, bounded sample (NNSPEC_EXPORT_FUZZ_EXAMPLES, default 12; each export takes 1-3 s) is
drawn from tests/test_differential.py's strategy: chains, merges, blocks and symbolic sizes over
every registered kind, with random weights. Each spec must either export and verify, and then
agree with PyTorch again here at a batch size the export did not use, or stop with a coded error
that names the layer (E622, E623) or the symbolic size (E626) at fault, never with a traceback.

A model whose own float32 output differs from its float64 output by more than the tolerance
(GroupNorm over groups of one value divides rounding noise by sqrt(eps)) cannot be verified to
1e-5 by anything; such specs are skipped and counted.
"""

from __future__ import annotations

import collections
import copy
import os
import tempfile

import onnxruntime
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings

from nnspec.compiler.pipeline import check_source
from nnspec.export import ExportError, ExportOptions
from nnspec.export.model import build_model, output_names
from nnspec.export.pipeline import export
from nnspec.export.samples import choose_samples
from nnspec.export.verify import difference, expected
from tests.test_differential import specs

EXAMPLES = int(os.environ.get("NNSPEC_EXPORT_FUZZ_EXAMPLES", "12"))
NAMED = {"E622", "E623"}  # these must name the layer
MOST = 0.75  # of the specs that can be verified, at least this share exports and verifies


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors, a shared machine


def drawn(count: int) -> list:
    """`count` specs from the differential strategy, the same ones every run."""
    cases = []

    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(specs())
    def collect(case):
        cases.append(case)

    collect()
    return cases[:count]


def ill_conditioned(model, graph) -> bool:
    """Whether float32 rounding alone moves the model's outputs beyond the tolerance."""
    tensors = choose_samples(model, graph).trace.tensors
    wide = copy.deepcopy(model).double()
    doubled = tuple(t.double() if t.is_floating_point() else t for t in tensors)
    try:
        want = [w.astype("float32") for w in expected(wide, doubled)]
    except RuntimeError:  # a layer that makes float32 itself (Cast): no float64 reference to judge by
        return False
    return difference(output_names(graph), want, expected(model, tensors))[1] is not None


def outcome(text: str, folder: str) -> str:
    """ "verified", "skipped", or the code of the error the export stopped with (checked here)."""
    result = check_source(text, os.path.join(folder, "fuzz.nn"))
    assert result.ok, text
    graph = result.program.models["Net"]
    torch.manual_seed(0)
    model = build_model(result.program, graph).eval()
    try:
        if ill_conditioned(model, graph):
            return "skipped"
    except ExportError as e:  # choose_samples found no sizes (E626)
        assert e.code == "E626", f"{e.render()}\n{text}"
        return e.code
    checkpoint = os.path.join(folder, "best.pt")
    torch.save({"model": model.state_dict(), "classes": None, "normalization": None, "data": {}}, checkpoint)
    output = os.path.join(folder, "fuzz.onnx")
    try:
        export(result.program, graph, ExportOptions(checkpoint, output, "onnx", force=True))
    except ExportError as e:
        assert e.code in NAMED | {"E626"}, f"{e.render()}\n{text}"
        assert e.code not in NAMED or e.layer is not None, f"no layer named: {e.render()}\n{text}"
        return e.code
    check_again(model, graph, output, text)
    return "verified"


def check_again(model, graph, path: str, text: str) -> None:
    """onnxruntime against PyTorch at batch 4, which the export neither traced nor checked."""
    samples = choose_samples(model, graph)
    # batch 3 + 1, along each input's batch dim (`input seq: [T, N, 10]` has it second)
    tensors = tuple(
        torch.cat([t, t.narrow(i.shape.batch, 0, 1)], dim=i.shape.batch)
        for i, t in zip(graph.inputs, samples.trace.tensors)
    )
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}
    feed = {i.name: t.numpy() for i, t in zip(graph.inputs, tensors) if i.name in wanted}
    got = session.run(None, feed)
    problem = difference(output_names(graph), expected(model, tensors), got)[1]
    assert problem is None, f"{problem}\n{text}"


def test_random_specs_export_to_onnx():
    counts = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="nnspec-export-fuzz-") as folder:
        for text, _ in drawn(EXAMPLES):
            counts[outcome(text, folder)] += 1
    verifiable = EXAMPLES - counts["skipped"]
    assert counts["verified"] >= MOST * verifiable, dict(counts)
