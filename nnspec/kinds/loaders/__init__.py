"""Data loading code of each source kind, copied into generated programs.

Each module defines `load_source(path, options)` returning (features, labels): a float32
tensor (N, ...) and a list of raw labels or a tensor. Its imports move to the program's top;
`DataError` is the program's own.
"""
