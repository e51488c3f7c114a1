"""The errors a generated program reports to its user: a code, a path or value, no traceback."""


class DataError(ValueError):
    """A problem with the data, a file or a checkpoint, found before the first training step."""

    def __init__(self, code, message=None):
        if message is None:
            # A DataLoader worker's error, rebuilt from the last line of its traceback's
            # text: "module.DataError: E501 path: why".
            last = code.rstrip().rpartition("\n")[2]
            code, _, message = last.rpartition("DataError: ")[2].partition(" ")
        super().__init__(f"{code} {message}" if code else message)
        self.code, self.message = code, message

    # raised in a DataLoader worker, it is pickled back to the main process
    def __reduce__(self):
        return type(self), (self.code, self.message)


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; training stops and keeps the last good checkpoint."""
