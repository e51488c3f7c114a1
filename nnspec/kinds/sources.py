"""Data sources (`source = csv("iris.csv")`), search distributions (`uniform(0.8, 0.99)`) and goals."""

from __future__ import annotations

import math
from typing import ClassVar

from nnspec.kinds.base import Kind, Registry
from nnspec.kinds.params import Anything, Bool, Float, Int, Optional, Param, Seq, Str
from nnspec.record import record

SOURCES = Registry("data source", 'csv("iris.csv")')
DISTRIBUTIONS = Registry("distribution", "loguniform(1e-4, 1e-1)")
GOALS = Registry("goal", 'maximize("val_accuracy")')


MAX_SCAN_BYTES = 20_000_000  # larger files: header only (the program checks every cell)


@record
class Peek:
    """What lint can learn about a source without torch (None: unknown)."""

    columns: list | None = None  # a CSV header
    samples: int | None = None
    features: tuple | None = None  # one sample's feature shape
    values: str | None = None  # what the features hold: "integers" or "reals"
    targets: object = None  # contract.Facts of the targets
    problems: tuple = ()  # (code, message): bad cells found without loading the data


class Source(Kind):
    family = "source"
    has_file: ClassVar[bool] = True  # `path` names a file relative to the spec
    tabular: ClassVar[bool] = False  # has named columns: the data section's `features` and `target`
    # Its program code is load_<name>(...) in nnspec/program/sources; a source that streams
    # also has open_<name>(...): data read sample by sample (in_memory = false).
    streams: ClassVar[bool] = False

    def peek(self, path: str | None, args: dict, data: dict) -> Peek:
        """`data`: the data section's values (target, features ...)."""
        return Peek()

    def cannot_stream(self, args: dict) -> str | None:
        """Why these arguments rule out in_memory = false (None: they do not)."""
        return None if self.streams else "it is always loaded into memory whole"


@SOURCES.register
class Csv(Source):
    """A CSV file with a header row; `features` and `target` name its columns."""

    name, tabular = "csv", True
    params = (Param("path", Str()), Param("delimiter", Str(), ","))

    def validate(self, args):
        delimiter = args.get("delimiter")
        if isinstance(delimiter, str) and len(delimiter) != 1:
            return [("E304", f"the delimiter must be one character, got {delimiter!r}", "delimiter")]
        return []

    def peek(self, path, args, data):
        from nnspec.kinds.peeks import peek_csv

        return peek_csv(path, args["delimiter"], data["target"], data["features"])


@SOURCES.register
class Synthetic(Source):
    """Random data for quick trials: Gaussian blobs (classification) or a noisy linear map."""

    name, has_file = "synthetic", False
    params = (
        Param("task", Str(("classification", "regression")), "classification"),
        Param("samples", Int(1), 1000),
        Param("features", Int(1), 8),
        Param("classes", Int(2), 2),
        Param("outputs", Int(1), 1),
        Param("noise", Float(0), 0.1),
        Param("seed", Int(0), 0),
    )

    def peek(self, path, args, data):
        from nnspec.program.contract import Facts

        if args["task"] == "classification":
            targets = Facts("integers", list(range(args["classes"])), args["classes"], ())
        else:
            targets = Facts("reals", None, None, (args["outputs"],))
        return Peek(samples=args["samples"], features=(args["features"],), values="reals", targets=targets)


@SOURCES.register
class Numpy(Source):
    """An .npz with arrays `features` and `targets`, or an .npy of features and `targets_path`."""

    name, streams = "numpy_arrays", True
    params = (
        Param("path", Str()),
        Param("features", Str(), "features"),
        Param("targets", Str(), "targets"),
        Param("targets_path", Optional(Str()), None),
    )

    def cannot_stream(self, args):
        if args["path"].endswith(".npz"):
            return "an .npz is read whole (its arrays are zip members); save the features as .npy, with targets_path"
        return None

    def peek(self, path, args, data):
        from nnspec.kinds.peeks import peek_arrays

        return peek_arrays(path, args)


@SOURCES.register
class Tensors(Source):
    """A torch.save'd dict of tensors, loaded with weights_only=True."""

    name = "torch_tensors"
    params = (Param("path", Str()), Param("features", Str(), "features"), Param("targets", Str(), "targets"))


@SOURCES.register
class Images(Source):
    """A folder with one subfolder of images per class (needs Pillow)."""

    name, streams = "images", True
    params = (
        Param("path", Str()),
        Param("size", Seq(Int(1), 2), doc="[height, width] every image is resized to"),
        Param("grayscale", Bool(), False, doc="one channel; otherwise RGB"),
        Param("crop", Optional(Seq(Int(1), 2)), None, doc="[height, width] cut from the centre after resizing"),
    )

    def validate(self, args):
        crop, size = args.get("crop"), args.get("size")
        if crop is not None and size is not None and any(c > s for c, s in zip(crop, size)):
            return [("E307", f"a center crop of {list(crop)} from images resized to {list(size)}", "crop")]
        return []

    def peek(self, path, args, data):
        from nnspec.kinds.peeks import peek_images

        return peek_images(path, args)


@SOURCES.register
class Text(Source):
    """A UTF-8 text file as next-character prediction, one class per distinct character.

    Windows of `block_size` characters, long[T], each with the characters one position on as
    its targets, (T,)."""

    name = "text"
    params = (
        Param("path", Str()),
        Param("block_size", Int(1)),
        Param("stride", Optional(Int(1)), None, doc="characters between windows; none: block_size"),
    )

    def peek(self, path, args, data):
        from nnspec.kinds.peeks import peek_text

        return peek_text(path, args)


class Distribution(Kind):
    family = "distribution"

    def draw(self, args: dict, rng):
        """One value, from `rng` (a random.Random)."""
        return rng.uniform(args["low"], args["high"])

    def listed(self, args: dict) -> list | None:
        """The values a grid search goes through, or None for a continuous distribution."""
        return None


@DISTRIBUTIONS.register
class Uniform(Distribution):
    name = "uniform"
    params = (Param("low", Float()), Param("high", Float()))

    def validate(self, args):
        return [] if args["low"] < args["high"] else [("E304", "uniform needs low < high", "high")]


@DISTRIBUTIONS.register
class LogUniform(Distribution):
    name = "loguniform"
    params = (Param("low", Float(0, lo_open=True)), Param("high", Float(0, lo_open=True)))

    def draw(self, args, rng):
        return math.exp(rng.uniform(math.log(args["low"]), math.log(args["high"])))  # uniform in log space

    def validate(self, args):
        return [] if args["low"] < args["high"] else [("E304", "loguniform needs low < high", "high")]


@DISTRIBUTIONS.register
class Choice(Distribution):
    name = "choice"
    params = (Param("values", Seq(Anything(), min_len=1)),)

    def draw(self, args, rng):
        return rng.choice(args["values"])

    def listed(self, args):
        return list(args["values"])


class Goal(Kind):
    family = "goal"
    params = (Param("metric", Str()),)


@GOALS.register
class Maximize(Goal):
    name = "maximize"


@GOALS.register
class Minimize(Goal):
    name = "minimize"
