"""Image folders with one subfolder per class, listed without torch: lint and programs share it."""

import os

from nnspec.program.errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def class_images(path):
    """{class name: sorted image paths} for each subfolder holding at least one image."""
    try:
        names = sorted(
            d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d))
        )
        found = {name: _images(os.path.join(path, name)) for name in names}
    except NotADirectoryError:
        raise DataError("E501", f"{path}: not a folder of class folders") from None
    except OSError as e:
        raise DataError("E501", f"{path}: cannot read it ({e.strerror or e})") from None
    found = {name: files for name, files in found.items() if files}
    if not found:
        raise DataError(
            "E504", f"{path}: no class folder holds images ({', '.join(EXTENSIONS)})"
        )
    return found


def _images(folder):
    return [
        os.path.join(folder, f)
        for f in sorted(os.listdir(folder))
        if f.lower().endswith(EXTENSIONS)
    ]
