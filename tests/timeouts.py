"""A time limit for tests of code that once hung (shared by the fuzz tests)."""

from __future__ import annotations

import contextlib
import signal
import time


@contextlib.contextmanager
def time_limit(seconds: float):
    """Fail instead of hanging (SIGALRM where the platform has it, else measured afterwards)."""
    start = time.monotonic()
    if not hasattr(signal, "setitimer"):
        yield
        assert time.monotonic() - start < seconds, f"took {time.monotonic() - start:.1f} s"
        return

    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
