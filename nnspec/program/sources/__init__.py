"""Data loading code of each source kind: `load_<kind>(path, ...)` -> Samples, and for a
source that streams `open_<kind>(path, ...)` -> a dataset read sample by sample."""
