"""Command line: lint, summary, graph, compile, run, search, predict, evaluate, export, explain; formats and exit codes (design §5)."""

from __future__ import annotations

import gc
import os
import sys

from nnspec.arguments import ARGUMENTS, build_parser

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 123


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    sys.stderr.write(text + "\n")


# Commands that only read specs: short, and what they build lives until they end, so the cyclic
# collector, which would otherwise pass over every object dozens of times while the checker's
# modules load, is paused for them.
READ_ONLY = frozenset({"lint", "graph", "summary"})
SHOWN_RUN_FILES = ("metrics.csv", "test.json", "last.pt", "best.pt", "curves.png", "graph.svg", "graph.dot")
OUT_OF_MEMORY = "out of memory: lower batch_size, read the data with `in_memory = false`, or use a smaller model"


def entry() -> None:
    """The `nnspec` command. After a command that imported torch, the process ends without
    tearing the interpreter down when no child process is left: finalising torch's modules
    takes a second or more, and every file is closed (checkpoints fsynced) by then."""
    code = main()
    if "torch" in sys.modules:
        import multiprocessing

        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe or stream
                pass
        if not multiprocessing.active_children():  # DataLoader workers get a normal exit
            os._exit(code)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser(argv[0] if argv and argv[0] in ARGUMENTS else None).parse_args(argv)
    except SystemExit as e:  # argparse: --help and --version exit 0, usage errors 2
        return int(e.code or 0)
    from nnspec.errors import UserError, from_os_error
    from nnspec.program.errors import DataError

    try:
        return _command(args)
    except UserError as e:
        err(e.render())
        return EXIT_ERRORS
    except DataError as e:  # raised by the program library nnspec imports (a run folder's lock)
        err(UserError(e.message, e.code).render())
        return EXIT_ERRORS
    except BrokenPipeError:  # the reader of stdout went away (`| head`): before OSError, its base
        return EXIT_OK
    except OSError as e:  # a path nnspec was told to read or write
        err(from_os_error(e).render())
        return EXIT_ERRORS
    except MemoryError:
        err(UserError(OUT_OF_MEMORY, "E613").render())
        return EXIT_ERRORS
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except Exception:
        err("internal error: this is a bug in nnspec, please report it with the spec that caused it")
        import traceback

        err(traceback.format_exc().rstrip())
        return EXIT_INTERNAL


def _command(args) -> int:
    if args.command not in READ_ONLY or not gc.isenabled():
        return COMMANDS[args.command](args)
    gc.disable()
    try:
        return COMMANDS[args.command](args)
    finally:
        gc.enable()


def cmd_lint(args) -> int:
    from nnspec.compiler.pipeline import check_file
    from nnspec.diagnostics import render_concise, render_full, render_json, shown_source

    results = [check_file(path, _options(args)) for path in args.files]
    diagnostics = [d for r in results for d in r.diagnostics]
    if args.format == "json":
        out(render_json(diagnostics))
    elif args.format == "concise":
        for d in diagnostics:
            out(render_concise(d))
    else:
        for path, r in zip(args.files, results):
            for d in r.diagnostics:
                out(render_full(d, shown_source(d, path, r.source)) + "\n")
        out(_tally(diagnostics, len(results)))
    return EXIT_OK if all(r.ok for r in results) else EXIT_ERRORS


def _tally(diagnostics, files: int) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    noun = "file" if files == 1 else "files"
    if not diagnostics:
        return f"{files} {noun} checked: no problems"
    return f"{files} {noun} checked: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def cmd_summary(args) -> int:
    from nnspec.compiler.cost import trainer, training_step
    from nnspec.compiler.summary import summarize, to_json, to_text

    result = _checked(args.file, _options(args), over_budget=True)  # the table shows where it goes
    if result is None:
        return EXIT_ERRORS
    if not result.program.models:  # a fact about the spec, not about how nnspec was called
        err("error: the file defines no model")
        return EXIT_ERRORS
    graph = _pick_model(result.program, args.model)
    if graph is None:
        return EXIT_USAGE
    step = training_step(result.program, graph, trainer(result.program, graph), args.batch_size)
    summary = summarize(graph, step.frozen, step.batch_size, step.optimizer)
    out(to_json(summary) if args.format == "json" else to_text(summary, args.file))
    return EXIT_OK if result.ok else EXIT_ERRORS


def cmd_graph(args) -> int:
    from nnspec import graph as drawing

    fmt = drawing.pick_format(args.format, args.output)
    if fmt == "png" and not args.output:
        err("error: --format png writes a binary file: give it with -o OUT.png")
        return EXIT_USAGE
    result = _checked(args.file, _options(args))
    if result is None:
        return EXIT_ERRORS
    if not result.program.models:
        err("error: the file defines no model")
        return EXIT_ERRORS
    graph = _pick_model(result.program, args.model)
    if graph is None:
        return EXIT_USAGE
    refusal = drawing.refusal(args.output, args.force) if args.output else None
    if refusal:
        from nnspec.errors import UserError

        raise UserError(refusal[1], refusal[0])
    return _drawn(drawing, graph, fmt, args)


def _drawn(drawing, graph, fmt: str, args) -> int:
    text = drawing.render(graph, fmt, args.file, args.depth)  # GraphvizError: reported by main
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    from nnspec.files import write_atomic

    write_atomic(args.output, text)
    return EXIT_OK


def _options(args):
    from nnspec.compiler.budget import Options

    return Options(
        max_params=getattr(args, "max_params", None),
        max_memory=getattr(args, "max_memory", None),
        batch_size=getattr(args, "batch_size", None),
    )


def _checked(path: str, options, over_budget: bool = False):
    """The checked program, or None after printing its errors to stderr; `over_budget`: also a
    program whose only errors are its budgets' (E510, E519), after printing them."""
    from nnspec.compiler.budget import CODES
    from nnspec.compiler.pipeline import check_file
    from nnspec.diagnostics import render_full, shown_source

    result = check_file(path, options)
    if not result.ok:
        for d in result.diagnostics:
            err(render_full(d, shown_source(d, path, result.source)) + "\n")
        budgets = result.program is not None and all(d.code in CODES for d in result.diagnostics if d.is_error)
        return result if over_budget and budgets else None
    return result


def _pick_model(program, name: str | None):
    from nnspec.compiler.settings import pick

    if name is not None:
        if name not in program.models:
            err(f"error: no model named `{name}`; models: {', '.join(program.models) or 'none'}")
            return None
        return program.models[name]
    for train in program.trains.values():
        graph = pick(train, "model", program.models)
        if graph is not None:
            return graph
    return list(program.models.values())[-1]


def cmd_compile(args) -> int:
    from nnspec.compiler.codegen import Target, generate, generate_models, generate_split, support_module

    result = _checked(args.file, _options(args))
    if result is None:
        return EXIT_ERRORS
    program = result.program
    train = _pick_train(program, args.train)
    if train is False:
        return EXIT_USAGE
    output = args.output
    script = os.path.basename(output) if output else f"{_stem(args.file)}.py"
    folder = os.path.dirname(os.path.abspath(output)) if output else os.getcwd()
    target = Target(script, folder, f"runs/{_stem(args.file)}")
    if train is None:
        files = {output: generate_models(program, script)}
    elif output and not args.one_file:
        source, support = generate_split(program, train, target)
        files = {os.path.join(os.path.dirname(output), support_module(script) + ".py"): support, output: source}
    else:
        files = {output: generate(program, train, target)}
    if not output:
        sys.stdout.write(files[None])
        return EXIT_OK
    _write_generated(files, args.force)
    return EXIT_OK


def _write_generated(files: dict, force: bool) -> None:
    """Each file atomically, once none of them is a file nnspec did not write (unless --force)."""
    from nnspec.errors import UserError
    from nnspec.files import GENERATED_MARK, taken, write_atomic

    for path in files:
        if taken(path) and not force and not _generated(path, GENERATED_MARK):
            raise UserError(f"{path} exists and was not written by nnspec; pass --force to overwrite it", "E612")
    for path, text in files.items():
        write_atomic(path, text)


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _generated(path: str, mark: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().startswith(mark)
    except OSError:
        return False


def _pick_train(program, name: str | None):
    """The train section to compile; None when the file has none; False after a usage error."""
    if name is not None:
        if name not in program.trains:
            err(f"error: no train section named `{name}`; train sections: {', '.join(program.trains) or 'none'}")
            return False
        return program.trains[name]
    if len(program.trains) > 1:
        err(f"error: the file has several train sections ({', '.join(program.trains)}); choose one with --train")
        return False
    return next(iter(program.trains.values()), None)


def cmd_run(args) -> int:
    from nnspec.errors import UserError
    from nnspec.runtime.launch import launch_options
    from nnspec.runtime.report import make_report
    from nnspec.runtime.run import RunOptions, default_out, run

    try:
        launch = launch_options(args)
    except UserError as e:
        err(e.render())
        return EXIT_USAGE
    result = _checked(args.file, _options(args))
    if result is None:
        return EXIT_ERRORS
    train = _pick_train(result.program, args.train)
    if train is None:
        err("error: the file has no train section to run")
        return EXIT_ERRORS
    if train is False:
        return EXIT_USAGE
    out_dir = args.out or default_out(args.file) + ("_overfit_batch" if args.overfit_batch else "")
    options = RunOptions(out_dir, args.epochs, args.lr, args.seed, args.device, args.resume, args.overfit_batch, launch)
    report = make_report()
    try:
        rows = run(result.program, train, options, report)
    except KeyboardInterrupt:
        err(f"interrupted: continue with `nnspec run {args.file} --resume --out {out_dir}`")
        return 130
    finally:
        report.close()  # the progress line goes, the terminal's streams come back
    if args.overfit_batch:
        return _overfit_verdict(rows)
    shown = [f for f in SHOWN_RUN_FILES if os.path.exists(os.path.join(out_dir, f))]
    report.message(f"run folder: {out_dir} ({', '.join(shown)})")
    return EXIT_OK


def _overfit_verdict(rows: list[dict]) -> int:
    """The tutorials' first check: can the model drive one batch's loss to about zero?"""
    first, last = rows[0]["train_loss"], rows[-1].get("val_loss", rows[-1]["train_loss"])
    accuracy = rows[-1].get("val_accuracy")
    near_zero = last <= max(0.05, 0.01 * first)
    # With accuracy: all labels right and the loss well down (label smoothing keeps it above zero).
    fits = near_zero if accuracy is None else accuracy == 1.0 and (near_zero or last <= 0.5 * first)
    shown = f", accuracy {accuracy:.3g}" if accuracy is not None else ""
    verdict = (
        "the model can fit one batch"
        if fits
        else "the model does NOT fit one batch: look for a bug, or raise epochs or lr"
    )
    out(f"overfit-batch: loss {first:.4g} -> {last:.4g}{shown}: {verdict}")
    return EXIT_OK if fits else EXIT_ERRORS


def cmd_search(args) -> int:
    from nnspec.runtime.run import default_out
    from nnspec.runtime.search import run_search

    result = _checked(args.file, _options(args))
    if result is None:
        return EXIT_ERRORS
    searches = result.program.searches
    if not searches or (args.name is None and len(searches) > 1) or (args.name and args.name not in searches):
        err(f"error: choose a search section with --search; the file has: {', '.join(searches) or 'none'}")
        return EXIT_USAGE if searches else EXIT_ERRORS
    search = searches[args.name] if args.name else next(iter(searches.values()))
    out_dir = args.out or f"{default_out(args.file)}_{search.name}"
    outcomes = run_search(result.program, search, out_dir, out)
    return EXIT_OK if any(o.best is not None for o in outcomes) else EXIT_ERRORS


def _checked_train(args):
    """(program, train section) or an exit code."""
    result = _checked(args.file, _options(args))
    if result is None:
        return EXIT_ERRORS
    train = _pick_train(result.program, args.train)
    if train is False:
        return EXIT_USAGE
    if train is None:
        err("error: the file has no train section")
        return EXIT_ERRORS
    return result.program, train


def cmd_predict(args) -> int:
    from nnspec.errors import UserError
    from nnspec.files import taken
    from nnspec.runtime.infer import predict

    checked = _checked_train(args)
    if isinstance(checked, int):
        return checked
    if taken(args.output) and not args.force:
        raise UserError(f"{args.output} exists; pass --force to overwrite it", "E612")
    count = predict(*checked, args.checkpoint, args.input, args.output, args.device, out)
    out(f"{count} predictions written to {args.output}")
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from nnspec.runtime.infer import evaluate

    checked = _checked_train(args)
    if isinstance(checked, int):
        return checked
    split, values = evaluate(*checked, args.checkpoint, args.device)
    out(f"{split}: " + "  ".join(f"{k} {v:.4g}" for k, v in values.items()))
    return EXIT_OK


def cmd_export(args) -> int:
    from nnspec import export as exporting

    fmt = exporting.pick_format(args.format, args.output)
    result = _checked(args.file, _options(args))
    if result is None:
        return EXIT_ERRORS
    if not result.program.models:
        err("error: the file defines no model")
        return EXIT_ERRORS
    graph = _pick_model(result.program, args.model)
    if graph is None:
        return EXIT_USAGE
    from nnspec.export.pipeline import export

    output = args.output or exporting.default_output(args.file, fmt)
    options = exporting.ExportOptions(args.checkpoint, output, fmt, args.force, args.verify)
    try:
        done = export(result.program, graph, options)
    except exporting.ExportError as e:
        err(e.render())
        return EXIT_ERRORS
    _report_export(graph.name, fmt, done)
    return EXIT_OK


def _report_export(model: str, fmt: str, done) -> None:
    kind = f"ONNX, opset {done.opset}" if fmt == "onnx" else "torch.export ExportedProgram"
    out(f"exported model {model} to {done.path} ({kind}, {done.bytes:,} bytes)")
    if done.external:
        out(
            f"note: the weights are in {done.external} (over 1.5 GB; an ONNX file cannot exceed 2 GB): keep both together"
        )
    if done.largest is None or not done.checked:
        out("not verified (--no-verify)" if done.largest is None else "not verified: the model runs at no check size")
        return
    runner = "onnxruntime" if fmt == "onnx" else "the reloaded program"
    sizes = "; ".join(done.checked)
    out(f"verified: {runner} equals PyTorch to 1e-5 on {sizes} (largest difference {done.largest:.2g})")
    if done.refused:
        out(f"note: not checked on {'; '.join(done.refused)}, which the PyTorch model itself does not run on")


def cmd_explain(args) -> int:
    from nnspec import catalogue

    entries = catalogue.load()
    if args.code is None:
        out(catalogue.listing(entries))
        return EXIT_OK
    found = [e for e in entries if e.code == args.code.upper()]
    if not found:
        from nnspec.suggest import close_matches

        close = close_matches(args.code.upper(), [e.code for e in entries])
        hint = f"did you mean {close[0]}?" if close else "`nnspec explain` lists them all"
        err(f"error: no diagnostic code `{args.code}`; {hint}")
        return EXIT_USAGE
    out(catalogue.explain(found[0]))
    return EXIT_OK


COMMANDS = {
    "lint": cmd_lint,
    "summary": cmd_summary,
    "graph": cmd_graph,
    "compile": cmd_compile,
    "run": cmd_run,
    "search": cmd_search,
    "predict": cmd_predict,
    "evaluate": cmd_evaluate,
    "export": cmd_export,
    "explain": cmd_explain,
}
