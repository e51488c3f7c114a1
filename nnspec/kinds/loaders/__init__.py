"""Data loading code of each source kind, copied into generated programs.

Each module defines `load_source(path, options)` returning (features, labels): a float32
tensor (N, ...) and a list of raw labels or a tensor. A source that `streams` also defines
`open_source(path, options)`: a dataset (`len`, `[i]` -> one float32 sample) with the raw
`labels` of all samples, which `in_memory = false` reads through DataLoader workers. Its imports
move to the program's top; `DataError` is the program's own.
"""
