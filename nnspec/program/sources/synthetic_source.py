"""Random data for quick trials, the same for the same seed."""

import torch

from nnspec.program.contract import memory_problem
from nnspec.program.errors import DataError
from nnspec.program.samples import Samples


def load_synthetic(
    task="classification",
    samples=1000,
    features=8,
    classes=2,
    outputs=1,
    noise=0.1,
    seed=0,
):
    """Gaussian blobs, one per class (classification), or a noisy linear map (regression)."""
    problem = memory_problem(samples, (features,), "synthetic data")
    if problem:
        raise DataError(*problem)
    g = torch.Generator().manual_seed(seed)
    if task == "classification":
        centers = torch.randn(classes, features, generator=g) * 2
        labels = torch.randint(0, classes, (samples,), generator=g)
        x = centers[labels] + noise * torch.randn(samples, features, generator=g)
        return Samples(x, labels, "synthetic data")
    weights = torch.randn(features, outputs, generator=g)
    x = torch.randn(samples, features, generator=g)
    return Samples(
        x,
        x @ weights + noise * torch.randn(samples, outputs, generator=g),
        "synthetic data",
    )
