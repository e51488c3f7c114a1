"""Data source kinds (`source = csv("iris.csv")`) and search distributions (`uniform(0.8, 0.99)`)."""

from __future__ import annotations

from typing import ClassVar

from nnspec.kinds.base import Kind, Registry
from nnspec.kinds.params import Anything, Float, Int, Param, Seq, Str

SOURCES = Registry("data source")
DISTRIBUTIONS = Registry("distribution")


class Source(Kind):
    family = "source"
    has_file: ClassVar[bool] = True  # `path` names a file relative to the spec
    tabular: ClassVar[bool] = False  # has named columns (features/target refer to them)


@SOURCES.register
class Csv(Source):
    """A CSV file with a header row; `features` and `target` name its columns."""

    name, tabular = "csv", True
    params = (Param("path", Str()), Param("delimiter", Str(), ","))


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


class Distribution(Kind):
    family = "distribution"


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

    def validate(self, args):
        return [] if args["low"] < args["high"] else [("E304", "loguniform needs low < high", "high")]


@DISTRIBUTIONS.register
class Choice(Distribution):
    name = "choice"
    params = (Param("values", Seq(Anything(), min_len=1)),)
