"""A file written by torch.save holding a dict of tensors, loaded with weights_only=True."""

import torch

from nnspec.program.errors import DataError
from nnspec.program.samples import Samples


def load_torch_tensors(path, features="features", targets="targets"):
    """Tensors `features` and `targets` from a torch.save'd dict."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        # a corrupt or hostile file: report, never unpickle arbitrary objects
        raise DataError(
            "E501", f"{path}: cannot load tensors safely ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(data, dict):
        raise DataError(
            "E504", f"{path}: expected a dict of tensors, found {type(data).__name__}"
        )
    for key in (features, targets):
        tensor = data.get(key)
        if not isinstance(tensor, torch.Tensor):
            raise DataError(
                "E502",
                f"{path}: no tensor {key!r}; the keys are {', '.join(map(str, data))}",
            )
        if tensor.layout != torch.strided or tensor.dim() == 0:
            raise DataError(
                "E504",
                f"{path}: tensor {key!r} is {tensor.layout} of shape {tuple(tensor.shape)}",
            )
    x, y = data[features], data[targets]
    if len(x) != len(y) or len(x) == 0:
        raise DataError("E504", f"{path}: {len(x)} samples but {len(y)} targets")
    if x.is_complex() or y.is_complex():
        raise DataError("E511", f"{path}: complex tensors are not features or targets")
    return Samples(x, y, path)
