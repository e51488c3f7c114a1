"""The generated program's library: plain modules that code generation copies from.

A generated program holds only the definitions its spec reaches (see
nnspec/compiler/codegen/linker.py): the data pipeline, the training and evaluation loop,
checkpoints, fine-tuning, prediction; in a two-file program, the definitions of the modules the
linker's SUPPORT lists (and that read no setting) go to its support file. Module-level names in
capitals are settings: each program writes the spec's values for them in its header, and a test
(or any importer) may set them on the module. These modules import torch, numpy and each other only (safetensors inside the one function
that reads such a file); never the rest of nnspec.
"""

# What nnspec's runtime calls in a program: a training program's (entry "train"), and what an
# inference program (entry "infer") holds beside the spec's builders (BUILDERS).
TRAINING = ("arguments", "train", "DataError", "NonFiniteLoss", "OVERFIT_EPOCHS")
INFERENCE = (
    "load_checkpoint",
    "predict",
    "evaluate_checkpoint",
    "Metrics",
    "DataError",
    "pick_device",
    "data_file",
)
BUILDERS = (
    "read_samples",
    "read_data",
    "build_model",
    "build_loss",
    "build_metrics",
    "probabilities",
)
