"""A file written by torch.save holding a dict of tensors, loaded with weights_only=True."""

import torch


def load_source(path, options):
    """Tensors `features` and `targets` from a torch.save'd dict."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a corrupt or hostile file: report, never unpickle arbitrary objects
        raise DataError("E501", f"{path}: cannot load tensors safely ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict):
        raise DataError("E504", f"{path}: expected a dict of tensors, found {type(data).__name__}")
    for key in (options["features"], options["targets"]):
        if not isinstance(data.get(key), torch.Tensor):
            raise DataError("E502", f"{path}: no tensor {key!r}; keys: {', '.join(map(str, data))}")
    x, y = data[options["features"]], data[options["targets"]]
    if len(x) != len(y):
        raise DataError("E504", f"{path}: {len(x)} samples but {len(y)} targets")
    return x.float(), y
