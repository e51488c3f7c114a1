"""torch.export's own format: the ExportedProgram saved as a `.pt2` archive, marked as nnspec's."""

from __future__ import annotations

import zipfile

import torch

from nnspec.export.model import is_nnspec_metadata, metadata_json

MARK_FILE = "nnspec.json"  # an extra file in the archive: the metadata JSON


def save(ep, path: str, meta: dict) -> None:
    torch.export.save(ep, path, extra_files={MARK_FILE: metadata_json(meta)})


def run(path: str, args: tuple, kwargs: dict | None = None) -> list[torch.Tensor]:
    """The outputs (flattened) of the program saved at `path`, loaded back as a user would load it."""
    from torch.utils import _pytree as pytree

    with torch.no_grad():
        out = torch.export.load(path).module()(*args, **(kwargs or {}))
    return pytree.tree_leaves(out)


def written_by_nnspec(path: str) -> bool:
    """Whether `path` is a .pt2 archive holding nnspec's metadata."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(f"/extra/{MARK_FILE}")]
            return bool(names) and is_nnspec_metadata(archive.read(names[0]).decode("utf-8", "replace"))
    except (OSError, zipfile.BadZipFile):
        return False
