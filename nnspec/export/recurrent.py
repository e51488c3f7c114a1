"""Recurrent layers over sequences whose length varies: their time loop as a graph loop.

torch.export works out a recurrent op's output shape by unrolling it over the time steps, which
fixes the length it was traced with. torch ships loop forms of the LSTM and GRU ops for
exporting with a free length (torch.onnx uses them); this adds the same for the plain tanh and
ReLU recurrence, built from torch's own helpers. They are private to torch: without them, a
free length through a recurrent layer is the error export reports for any layer that fixes a size.
"""

from __future__ import annotations

import contextlib
import functools

import torch


@contextlib.contextmanager
def loop_recurrences():
    """Inside: recurrent ops trace as loops over a symbolic number of steps."""
    try:
        from torch.export import _patches
    except ImportError:  # another torch: the unrolled forms, which fix the length
        yield
        return
    aten = torch.ops.aten
    ops = (aten.lstm.input, aten.gru.input, aten.rnn_tanh.input, aten.rnn_relu.input)
    with contextlib.ExitStack() as stack:
        stack.callback(_forget_dispatch, ops)  # last on the way out: after torch's kernels are back
        stack.callback(torch._dynamo.reset)
        stack.enter_context(_patches.register_lstm_while_loop_decomposition())
        stack.enter_context(_patches.register_gru_while_loop_decomposition())
        for op, activation in ((aten.rnn_tanh.input, torch.tanh), (aten.rnn_relu.input, torch.relu)):
            stack.enter_context(_patches._register_rnn_while_loop_decomposition(op, _recurrence(activation)))
        _forget_dispatch(ops)
        torch._dynamo.reset()
        yield


def _forget_dispatch(ops) -> None:
    """An op caches the kernel it last dispatched to, and the patches above swap kernels without
    clearing that cache: a trace before them would keep the unrolled form (which fixes the
    length), and one after them the loop. Likewise torch compiles each while_loop with dynamo,
    whose cache (reset above) made a tanh loop converted after an LSTM's lose its metadata."""
    for op in ops:
        op._dispatch_cache.clear()


def _recurrence(activation):
    """aten.rnn_tanh / rnn_relu with each layer's time steps in a while_loop."""
    from torch._decomp.decompositions import _rnn_helper, gather_params

    def rnn(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
        layer = functools.partial(_one_layer, activation=activation)
        grouped = gather_params(params, has_biases, False)
        hidden = list(hx.unbind(0))
        out, final = _rnn_helper(
            input, hidden, grouped, has_biases, num_layers, dropout, train, bidirectional, batch_first, layer
        )
        return out, torch.stack(final, 0)

    return rnn


def _one_layer(inp, hidden, params, has_biases, reverse=False, *, activation):
    """One direction of one layer: inp (T, N, F), hidden (N, H) -> ((T, N, H), (N, H))."""
    from torch._higher_order_ops.while_loop import while_loop
    from torch.export._patches import _clone_tensors_that_alias

    ih_weight, hh_weight = params[0], params[1]
    ih_bias, hh_bias = (params[2], params[3]) if has_biases else (None, None)
    steps = torch.nn.functional.linear(inp, ih_weight, ih_bias)  # (T, N, H): the input's part, all steps at once
    steps = steps.flip(0) if reverse else steps
    hh_weight, hh_bias = _clone_tensors_that_alias((hh_weight, hh_bias))  # while_loop refuses aliased weights
    out = torch.empty(steps.size(0), *hidden.shape, dtype=hidden.dtype, device=hidden.device)

    def more(i, out, h):
        return i < steps.size(0)

    def step(i, out, h):
        t = i.item()
        torch._check_is_size(t)
        torch._check_is_size(t, max=steps.size(0) - 1)
        h = activation(steps[t] + torch.nn.functional.linear(h, hh_weight, hh_bias))
        out = out.clone()
        out[t] = h
        return i + 1, out, h

    # A counter made by an op, not a literal: a literal becomes a constant the ONNX pass loses.
    start = torch.zeros((), dtype=torch.int64, device=hidden.device)
    _, out, h = while_loop(more, step, [start, out, hidden])
    return (out.flip(0) if reverse else out), h
