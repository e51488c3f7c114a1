"""Measure a module's cost in PyTorch (tests only): FLOPs as torch.utils.flop_counter counts them,
the bytes autograd keeps for backward, and the peak memory of a training step on CPU.

Measured on the paths the static model describes: PyTorch's own LSTM loop (oneDNN off inside
LSTMs) and, for FLOPs, the reference attention (the fused CPU kernel is a call FlopCounterMode
does not count). What autograd keeps is measured by `saved_tensors_hooks`: each storage once, parameters
and buffers aside.
"""

from __future__ import annotations

import contextlib
import weakref

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

# FlopCounterMode's table has no entry for these kinds' calls: it counts 0 where nnspec counts products.
UNCOUNTED = {"Bilinear": "at::_trilinear"}


@contextlib.contextmanager
def reference_paths(module, math_attention: bool):
    """oneDNN off inside every LSTM of `module` (only there: other kernels change with it too, a
    transposed 3-d convolution then keeps a larger output), and the reference attention."""
    enabled = torch._C._get_mkldnn_enabled()
    lstms = [m for m in module.modules() if isinstance(m, torch.nn.LSTM)] if module is not None else []
    handles = [m.register_forward_pre_hook(lambda *_: torch._C._set_mkldnn_enabled(False)) for m in lstms]
    handles += [m.register_forward_hook(lambda *_: torch._C._set_mkldnn_enabled(enabled)) for m in lstms]
    try:
        with sdpa_kernel(SDPBackend.MATH) if math_attention else contextlib.nullcontext():
            yield
    finally:
        torch._C._set_mkldnn_enabled(enabled)  # also when a forward failed inside an LSTM
        for h in handles:
            h.remove()


def flops(run, module) -> tuple[int, int]:
    """(forward, backward) FLOPs of `run()`, whose result backward starts from; `module`: the
    one it runs."""
    with reference_paths(module, True):
        with FlopCounterMode(display=False) as counter:
            out = run()
        forward = counter.get_total_flops()
        if not out.requires_grad:
            return forward, 0
        with FlopCounterMode(display=False) as counter:
            out.float().sum().backward()
    return forward, counter.get_total_flops()


class _Held:
    """What the pack hook gives autograd to keep: freed with the graph node that keeps it."""

    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor):
        self.tensor = tensor


def saved_bytes(run, module) -> int:
    """Bytes of the storages autograd keeps for backward from `run()`'s result: each storage
    once; `owned`, tensors that exist anyway (parameters, buffers), aside. What a part of the
    graph no output depends on keeps is freed when `run()` returns, and not counted."""
    owned = [*module.parameters(), *module.buffers()] if module is not None else []
    skip = {t.untyped_storage().data_ptr() for t in owned}
    held: list[weakref.ref] = []

    def pack(t):
        h = _Held(t.detach())  # an output holding its own grad_fn would keep its graph alive in a cycle
        held.append(weakref.ref(h))
        return h

    with reference_paths(module, False), torch.autograd.graph.saved_tensors_hooks(pack, lambda h: h.tensor):
        out = run()
    kept = {}
    for ref in held:
        h = ref()
        if h is not None and h.tensor.untyped_storage().data_ptr() not in skip:
            storage = h.tensor.untyped_storage()
            kept[storage.data_ptr()] = storage.nbytes()
    del out
    return sum(kept.values())


def peak_bytes(step, module) -> int:
    """The most memory PyTorch's CPU allocator held during `step()`, from the profiler's memory
    timeline (every tensor alive when it starts included)."""
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import MemoryProfileTimeline

    with reference_paths(module, False):
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True) as p:
            step()
    _, sizes = MemoryProfileTimeline(p._memory_profile())._coalesce_timeline("cpu")
    return max(sum(s) for s in sizes)
