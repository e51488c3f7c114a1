"""The registries: one class per layer, loss, optimizer, scheduler, metric, data source, augmentation.

Importing this package registers every kind.
"""

from nnspec.kinds import layers  # noqa: F401  (registers the layer kinds)
from nnspec.kinds.augment import AUGMENTS
from nnspec.kinds.inits import INITS
from nnspec.kinds.layer import LAYERS
from nnspec.kinds.losses import LOSSES
from nnspec.kinds.metrics import METRICS
from nnspec.kinds.optim import OPTIMIZERS, SCHEDULERS
from nnspec.kinds.sources import DISTRIBUTIONS, SOURCES

REGISTRIES = (LAYERS, LOSSES, OPTIMIZERS, SCHEDULERS, METRICS, INITS, SOURCES, DISTRIBUTIONS, AUGMENTS)
