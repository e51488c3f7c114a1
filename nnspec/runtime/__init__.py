"""Runs generated programs in memory: `nnspec run`, search, predict and evaluate."""
