"""Random data for quick trials, the same for the same seed."""

import torch


def load_source(path, options):
    """Gaussian blobs, one per class (classification), or a noisy linear map (regression)."""
    g = torch.Generator().manual_seed(options["seed"])
    n, features = options["samples"], options["features"]
    if options["task"] == "classification":
        centers = torch.randn(options["classes"], features, generator=g) * 2
        labels = torch.randint(0, options["classes"], (n,), generator=g)
        x = centers[labels] + options["noise"] * torch.randn(n, features, generator=g)
        return x, labels
    weights = torch.randn(features, options["outputs"], generator=g)
    x = torch.randn(n, features, generator=g)
    y = x @ weights + options["noise"] * torch.randn(n, options["outputs"], generator=g)
    return x, y
