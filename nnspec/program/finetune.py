"""Fine-tuning: weights from an earlier run or a weights file (a state_dict as torchvision
publishes them, or .safetensors), frozen layers, per-layer learning rates, initialisers.
"""

import fnmatch
import os

import torch

from nnspec.program.errors import DataError

# Settings: each program writes the spec's values here.
FREEZE = []  # layer-name patterns whose parameters do not train
LAYER_LR = {}  # layer-name pattern -> learning rate
# `from`: tensors of another shape train from scratch instead of failing
SKIP_MISMATCHED = False
EXCLUDE = []  # `from`: tensor-name patterns deliberately not loaded (a replaced head)
SAFETENSORS = (
    False  # `from` names a .safetensors file (read with the safetensors package)
)


def covers(layer, pattern):
    """Whether a layer-name pattern names `layer` or a block that encloses it."""
    parts = layer.split(".") if layer else []
    return any(
        fnmatch.fnmatchcase(".".join(parts[:n]), pattern)
        for n in range(1, len(parts) + 1)
    )


def matches(parameter, pattern):
    """Whether a pattern names a parameter (`fc.bias`) or covers it: its layer or any
    enclosing block matches."""
    return fnmatch.fnmatchcase(parameter, pattern) or covers(
        parameter.rpartition(".")[0], pattern
    )


def parameter_groups(model, lr):
    """Trainable parameters, grouped by the spec's `layer_lr` patterns (first match wins)."""
    patterns = list(LAYER_LR.items())
    groups = [{"params": [], "lr": lr}] + [
        {"params": [], "lr": value} for _, value in patterns
    ]
    for name, param in model.named_parameters():
        if param.requires_grad:
            match = next(
                (
                    i + 1
                    for i, (pattern, _) in enumerate(patterns)
                    if matches(name, pattern)
                ),
                0,
            )
            groups[match]["params"].append(param)
    return [group for group in groups if group["params"]]


def freeze(model):
    """requires_grad = False for the layers the spec's `freeze` patterns name.

    Returns the frozen layers that keep running statistics (batch norm): train_epoch keeps them
    in eval mode, or each batch would still move their running mean and variance.
    """
    for name, param in model.named_parameters():
        if any(matches(name, pattern) for pattern in FREEZE):
            param.requires_grad = False
    return [
        module
        for name, module in model.named_modules()
        if getattr(module, "track_running_stats", False)
        and any(covers(name, pattern) for pattern in FREEZE)
    ]


def load_pretrained(model, path, report):
    """Weights saved by an earlier run (or a plain state_dict): matched by name and shape,
    reported before training."""
    saved = _saved_tensors(path)
    own = model.state_dict()
    excluded = [k for k in own if any(matches(k, pattern) for pattern in EXCLUDE)]
    saved = {k: t for k, t in saved.items() if k not in excluded}
    matched = [k for k in saved if k in own and saved[k].shape == own[k].shape]
    mismatched = [k for k in saved if k in own and k not in matched]
    missing = [k for k in own if k not in saved and k not in excluded]
    left_out = f", {len(excluded)} excluded" if EXCLUDE else ""
    report.message(
        f"from {path}: {len(matched)} tensors loaded{left_out}, {len(missing)} missing, {len(mismatched)} of another shape"
    )
    for k in missing:
        report.message(f"  missing: {k}")
    for k in mismatched:
        report.message(
            f"  shape differs: {k} {tuple(saved[k].shape)} -> {tuple(own[k].shape)}"
        )
    if mismatched and not SKIP_MISMATCHED:
        message = f"{path}: {len(mismatched)} tensors have another shape; set skip_mismatched = true to train them from scratch"
        raise DataError("E608", message)
    untrained = [
        k
        for k in mismatched + missing
        if any(matches(k, pattern) for pattern in FREEZE)
    ]
    if untrained:  # frozen at their random start: almost never what was meant
        report.message(
            f"warning: `freeze` covers {len(untrained)} tensors that were not loaded: {', '.join(untrained[:3])}"
        )
    model.load_state_dict({k: saved[k] for k in matched}, strict=False)


def _saved_tensors(path):
    if SAFETENSORS:
        return _safetensors(path)
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        message = f"{path}: no such checkpoint (`from` in the spec)"
        raise DataError("E501", message) from None
    except Exception as e:
        message = f"{path}: not a checkpoint that loads safely ({type(e).__name__})"
        raise DataError("E608", message) from None
    saved = saved.get("model", saved) if isinstance(saved, dict) else saved
    if not isinstance(saved, dict) or not all(
        isinstance(t, torch.Tensor) for t in saved.values()
    ):
        message = f"{path}: neither an nnspec checkpoint nor a state_dict of tensors"
        raise DataError("E608", message)
    return saved


def _safetensors(path):
    """The tensors of a .safetensors file; the package is needed only for such a file."""
    if not os.path.isfile(path):
        raise DataError("E501", f"{path}: no such weights file (`from` in the spec)")
    try:
        from safetensors.torch import load_file
    except ImportError:
        message = f"{path}: reading .safetensors needs the safetensors package (pip install safetensors)"
        raise DataError("E520", message) from None
    try:
        return load_file(path, device="cpu")
    except Exception as e:  # a damaged or foreign file: its header does not parse
        message = f"{path}: not a .safetensors file that loads ({type(e).__name__})"
        raise DataError("E608", message) from None


def init_weights(model, rules):
    """The spec's `init` rules (pattern, weight initialiser, bias initialiser or None): weight
    matrices and kernels of the layers a pattern names, and their biases."""
    for name, module in model.named_modules():
        for pattern, weight, bias in rules:
            if fnmatch.fnmatchcase(name, pattern):
                for key, param in module.named_parameters(recurse=False):
                    if "weight" in key and param.dim() > 1:
                        weight(param)
                    elif "bias" in key and bias is not None:
                        bias(param)
