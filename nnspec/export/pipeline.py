"""`nnspec export` step by step: model and weights, sample inputs, torch.export, the file, verification."""

from __future__ import annotations

import importlib
import os

from nnspec.compiler.ir import Graph, Program
from nnspec.export import EXTRA, ExportError, ExportOptions
from nnspec.record import record

NEEDED = {"onnx": ("onnx", "onnxscript", "onnxruntime"), "exported-program": ()}


@record
class Exported:
    """What was written, for the command line's report."""

    path: str
    bytes: int
    external: str | None  # the `.data` file holding the weights of a large ONNX model
    opset: int | None
    checked: tuple[str, ...]  # the sizes verified ("batch 5, T=11")
    refused: tuple[str, ...]  # check sizes the PyTorch model itself does not run at
    largest: float | None  # the largest difference found; None: not verified


def check_extra(fmt: str) -> None:
    """E621 before any work when the packages a format needs are missing."""
    missing = [m for m in NEEDED[fmt] if not _installed(m)]
    if missing:
        raise ExportError(
            "E621",
            f"--format {fmt} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed",
            f"install nnspec's export extra: {EXTRA} (--format exported-program needs only torch)",
        )


def _installed(module: str) -> bool:
    try:
        importlib.import_module(module)  # needed next anyway; a broken install counts as missing
    except ImportError:
        return False
    return True


def export(program: Program, graph: Graph, options: ExportOptions) -> Exported:
    from nnspec.export.output import refusal

    check_extra(options.format)
    problem = refusal(options.output, options.format, options.force)
    if problem:
        raise problem
    from nnspec.export.model import load_trained, metadata
    from nnspec.export.samples import choose_samples

    model, checkpoint = load_trained(program, graph, options.checkpoint)
    samples = choose_samples(model, graph)
    meta = metadata(program, graph, options.checkpoint, checkpoint)
    return _write(model, graph, samples, meta, options)


def _write(model, graph: Graph, samples, meta: dict, options: ExportOptions) -> Exported:
    from nnspec.export.capture import capture, exporting
    from nnspec.export.output import staged

    try:
        with exporting():
            ep = capture(model, samples.trace.tensors, samples.dynamic, options.format)
    except Exception as e:
        raise _not_exportable(model, graph, samples, options.format, e) from None
    try:
        with staged(options.output) as path:
            external, opset = _save(model, graph, samples, ep, meta, options.format, path)
            largest = _verify(model, graph, samples, options.format, path) if options.verify else None
            folder = os.path.dirname(path)
            size = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))
    except OSError as e:  # a full disk, a folder made read-only meanwhile
        raise ExportError("E603", f"cannot write {options.output}: {e.strerror or e}") from None
    checked = tuple(s.sizes() for s in samples.checks) if options.verify else ()
    refused = tuple(s.sizes() for s in samples.refused) if options.verify else ()
    data = options.output + ".data" if external else None
    return Exported(options.output, size, data, opset, checked, refused, largest)


def _save(model, graph, samples, ep, meta: dict, fmt: str, path: str) -> tuple[bool, int | None]:
    """Write the file at `path`: (weights in a `.data` file?, ONNX opset)."""
    from nnspec.export.capture import exporting
    from nnspec.export.model import output_names

    if fmt == "exported-program":
        from nnspec.export import program_file

        with exporting():
            program_file.save(ep, path, meta)
        return False, None
    from nnspec.export import onnx_file

    inputs = [i.name for i in graph.inputs]
    try:
        with exporting():
            program = onnx_file.convert(ep, inputs, output_names(graph), samples.dynamic, meta)
    except Exception as e:
        raise _not_exportable(model, graph, samples, fmt, e) from None
    return onnx_file.save(program, path), onnx_file.opset(program)


def _verify(model, graph: Graph, samples, fmt: str, path: str) -> float:
    """The file's outputs equal the model's on every check sample; else E623 naming the layer."""
    from nnspec.export import onnx_file, program_file
    from nnspec.export.capture import quiet, reason
    from nnspec.export.model import output_names
    from nnspec.export.verify import difference, expected

    largest = 0.0
    inputs = [i.name for i in graph.inputs]
    for sample in samples.checks:
        want = expected(model, sample.tensors)
        try:
            with quiet():
                got = (
                    onnx_file.run(path, inputs, sample.tensors)
                    if fmt == "onnx"
                    else program_file.run(path, sample.tensors)
                )
        except Exception as e:
            raise _wrong(model, graph, samples, fmt, sample, f"it fails: {reason(e)}") from None
        gap, problem = difference(output_names(graph), want, got)
        if problem:
            raise _wrong(model, graph, samples, fmt, sample, problem)
        largest = max(largest, gap)
    return largest


def _runner(fmt: str) -> str:
    return "onnxruntime" if fmt == "onnx" else "the reloaded exported program"


def _wrong(model, graph, samples, fmt: str, sample, problem: str) -> ExportError:
    """E623: the exported file does not compute what the model computes."""
    from nnspec.export.blame import find_culprit

    culprit = find_culprit(model, graph, samples, fmt, sample)
    at = f"; layer `{culprit.name}` ({culprit.kind}, {culprit.where}) alone: {culprit.reason}" if culprit else ""
    return ExportError(
        "E623",
        f"model `{graph.name}` exported, but {_runner(fmt)} disagrees with PyTorch ({sample.sizes()}): {problem}{at}",
        "nothing was written; try the other --format or another layer there (--no-verify writes the file unchecked)",
        culprit.name if culprit else None,
    )


def _not_exportable(model, graph, samples, fmt: str, error: Exception) -> ExportError:
    """E622: the layer (found by exporting each alone) that cannot become the format."""
    from nnspec.export.blame import find_culprit
    from nnspec.export.capture import fixed_size, reason

    culprit = find_culprit(model, graph, samples, fmt)
    target = "ONNX" if fmt == "onnx" else "an exported program"
    fixed = fixed_size(error)
    if fixed is not None:
        size = _size_name(samples, fixed)
        what = f"layer `{culprit.name}` ({culprit.kind}, {culprit.where})" if culprit else f"model `{graph.name}`"
        batch = size == "the batch size"
        return ExportError(
            "E622",
            f"{what} cannot be exported to {target} with {size} free: torch.export fixes it to {fixed}",
            _BATCH_HELP if batch else "write that size as a number in the spec's input, or use another layer there",
            culprit.name if culprit else None,
        )
    if culprit is None:
        tie = _first_tie(graph)
        if tie is not None:  # no layer fails alone: the weights they share do
            name, node, shared = tie
            where = f"{os.path.basename(node.span.file)}:{node.span.line}"
            message = f"layer `{name}` ({node.kind}, {where}) shares {shared} and cannot be exported to {target}"
            return ExportError("E622", f"{message}: {reason(error)}", _TIE_HELP, name)
        return ExportError("E622", f"model `{graph.name}` cannot be exported to {target}: {reason(error)}")
    return ExportError(
        "E622",
        f"layer `{culprit.name}` ({culprit.kind}, {culprit.where}) cannot be exported to {target}: {culprit.reason}",
        "export to the other --format, or use another layer there",
        culprit.name,
    )


_TIE_HELP = "export to --format exported-program, or give the layers weights of their own"


def _first_tie(graph):
    """(dotted name, node, what it shares) of the first layer whose weights are tied, or None."""
    from nnspec.compiler.walk import flat_nodes

    for name, _, node in flat_nodes(graph):
        if node.tied:
            parameter, source = next(iter(node.tied.items()))
            return name, node, f"`{parameter}` with `{source}`"
    return None


# Every kind's generated code takes any batch size, so this is nnspec's mistake.
_BATCH_HELP = "this is a bug in nnspec (the generated model should take any batch): please report it with the spec"


def _size_name(samples, value: int) -> str:
    """Which varying size was traced at `value`: the batch or a symbol."""
    if value == samples.trace.batch:
        return "the batch size"
    names = [k for k, v in samples.trace.lengths.items() if v == value]
    return f"the size {names[0]}" if names else "a size"
