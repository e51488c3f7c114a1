"""The registries: one class per layer, loss, optimizer, scheduler, metric, data source, augmentation.

Importing this package registers every layer kind (every spec has layers); each other registry
registers its kinds when its module is first imported, which a spec without data or train
sections never needs. `REGISTRIES` and the registries by name import them all.
"""

import importlib

from nnspec.kinds import layers  # noqa: F401  (registers the layer kinds)
from nnspec.kinds.layer import LAYERS

# name -> the module that defines it
_LAZY = {
    "AUGMENTS": "augment",
    "INITS": "inits",
    "LOSSES": "losses",
    "METRICS": "metrics",
    "OPTIMIZERS": "optim",
    "SCHEDULERS": "optim",
    "SOURCES": "sources",
    "DISTRIBUTIONS": "sources",
}
_ORDER = ("LOSSES", "OPTIMIZERS", "SCHEDULERS", "METRICS", "INITS", "SOURCES", "DISTRIBUTIONS", "AUGMENTS")


def __getattr__(name: str):
    if name == "REGISTRIES":
        return (LAYERS, *(__getattr__(n) for n in _ORDER))
    if name in _LAZY:
        return getattr(importlib.import_module(f"nnspec.kinds.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
