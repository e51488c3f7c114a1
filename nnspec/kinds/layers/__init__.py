"""Layer kinds, one class each, grouped by family; importing this package registers them all."""

from nnspec.kinds.layers import (  # noqa: F401
    activation,
    arith,
    attention,
    conv,
    dense,
    merge,
    norm,
    pool,
    recurrent,
    reshape,
    select,
    spatial,
)
