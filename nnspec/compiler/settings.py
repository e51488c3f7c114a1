"""Check data, train and search sections against their schemas (the schema and the registries
their keys name are imported for a spec that has such a section); resolve their references (E208)."""

from __future__ import annotations

from nnspec.compiler.ir import Ref, Settings
from nnspec.compiler.sections import SETTINGS_KINDS
from nnspec.diagnostics import Sink
from nnspec.suggest import close_matches


def check_settings(sections: dict, sink: Sink) -> dict[str, dict[str, Settings]]:
    """Settings by section kind and name; a model-only spec (the common lint) has none to check."""
    if not any(sections[kind] for kind in SETTINGS_KINDS):
        return {kind: {} for kind in SETTINGS_KINDS}
    from nnspec.compiler.sectioncheck import check_sections

    return check_sections(sections, sink)


def resolve_refs(settings: dict, models: dict, sink: Sink, blocks: dict | None = None) -> None:
    """train.model, train.data and search.train must name sections of the right kind."""
    pools = {"model": models, "data": settings["data"], "train": settings["train"]}
    for section in list(settings["train"].values()) + list(settings["search"].values()):
        for key, value in section.values.items():
            if isinstance(value, Ref):
                _check_ref(key, value, pools[key], sink, blocks if key == "model" else None)
        for key in ("model", "data", "train"):
            count = len(pools[key])
            if key in section.values and section.values[key] is None and (count > 1 or (count == 0 and key != "data")):
                what = "no" if not count else "several"
                help = f"choose one: {', '.join(pools[key])}" if count else None
                sink.error(
                    "E208",
                    f"{section.kind} `{section.name}` needs `{key} = ...`: the file has {what} {key} sections",
                    section.name_span or section.span,
                    help=help,
                )


def _check_ref(key: str, ref: Ref, pool: dict, sink: Sink, blocks: dict | None = None) -> None:
    if ref.name in pool:
        return
    block = (blocks or {}).get(ref.name)
    if block is not None:  # the inputs' shapes are a model's: a block takes them from its caller
        help = f"train a model that calls it: `model Net {{ input x: [...]  output x -> {ref.name}() }}`"
        sink.error("E208", f"`{ref.name}` is a {block.kind}, not a model", ref.span, help=help)
        return
    close = close_matches(ref.name, list(pool))
    known = f"{key} sections: {', '.join(pool)}" if pool else f"the file has no {key} section"
    sink.error("E208", f"no {key} named `{ref.name}`", ref.span, help=f"did you mean `{close[0]}`?" if close else known)


def pick(section: Settings, key: str, pool: dict):
    """The section named by `key` (or the only one in the file)."""
    value = section.values.get(key)
    if isinstance(value, Ref):
        return pool.get(value.name)
    return next(iter(pool.values())) if len(pool) == 1 else None
