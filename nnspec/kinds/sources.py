"""Data sources (`source = csv("iris.csv")`), search distributions (`uniform(0.8, 0.99)`) and goals."""

from __future__ import annotations

import math
import os
from typing import ClassVar

from nnspec.kinds.base import Kind, Registry
from nnspec.kinds.params import Anything, Bool, Float, Int, Optional, Param, Seq, Str
from nnspec.kinds.tabular import scan
from nnspec.record import record

SOURCES = Registry("data source", 'csv("iris.csv")')
DISTRIBUTIONS = Registry("distribution", "loguniform(1e-4, 1e-1)")
GOALS = Registry("goal", 'maximize("val_accuracy")')


@record
class Peek:
    """What lint can learn about a source without loading it (None: unknown)."""

    columns: list | None = None
    features: int | None = None
    classes: int | None = None
    rows: int | None = None
    problems: tuple = ()  # (code, message): bad cells found without loading the data


class DataError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


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
        header, rows, classes, problems = scan(path, args["delimiter"], data["target"], data["features"])
        return Peek(header, classes=classes, rows=rows, problems=tuple(problems))


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
        classes = args["classes"] if args["task"] == "classification" else None
        return Peek(features=args["features"], classes=classes)


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


@SOURCES.register
class Tensors(Source):
    """A torch.save'd dict of tensors, loaded with weights_only=True."""

    name = "torch_tensors"
    params = (Param("path", Str()), Param("features", Str(), "features"), Param("targets", Str(), "targets"))


@SOURCES.register
class Images(Source):
    """A folder with one subfolder of images per class (needs Pillow)."""

    name, streams = "images", True
    params = (Param("path", Str()), Param("size", Seq(Int(1), 2)), Param("grayscale", Bool(), False))

    def peek(self, path, args, data):
        if not os.path.isdir(path):
            raise DataError("E501", "not a folder: images are read from one subfolder per class")
        try:
            classes = sum(os.path.isdir(os.path.join(path, d)) for d in os.listdir(path))
        except OSError as e:
            raise DataError("E501", f"cannot read it: {e}") from None
        if not classes:
            raise DataError("E504", "the folder has no class subfolders")
        return Peek(classes=classes)


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
