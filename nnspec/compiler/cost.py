"""The static cost of one training step of a checked model: FLOPs forward and backward per layer,
the bytes autograd keeps for backward, and the memory of weights, gradients, optimizer state and
the step's estimated peak. Two passes over the layers, each kind giving its own numbers.

A tensor several layers keep (a ReLU's output that the next Linear also needs) is counted once,
at the first layer that keeps it; views (Flatten, Transpose) share their input's storage. A
layer no output depends on runs forward only: what it keeps is freed when forward returns.
"""

from __future__ import annotations

from nnspec.compiler.ir import BoundCall, Graph, Node, Program, Settings
from nnspec.compiler.settings import pick
from nnspec.compiler.walk import covered
from nnspec.compiler.weights import frozen_count, frozen_patterns
from nnspec.kinds.base import Shape
from nnspec.kinds.cost import BYTES, Flow, nbytes
from nnspec.kinds.layer import LAYERS
from nnspec.record import record


@record
class LayerCost:
    """One row of the summary: FLOPs per sample, and the bytes it keeps for the batch."""

    forward: int = 0
    backward: int = 0
    saved: int = 0

    def __add__(self, other: LayerCost) -> LayerCost:
        return LayerCost(self.forward + other.forward, self.backward + other.backward, self.saved + other.saved)


@record
class Memory:
    """Bytes of one training step at `batch_size`."""

    batch_size: int
    optimizer: str | None  # its kind; None: no train section
    parameters: int
    buffers: int  # running statistics
    gradients: int
    optimizer_state: int
    activations: int  # kept for backward
    inputs: int  # the batch itself and the model's outputs, where no layer keeps them
    peak: int


@record
class Cost:
    layers: tuple[LayerCost, ...]  # in the order of walk.flat_nodes
    forward: int  # FLOPs per sample
    backward: int
    memory: Memory


def trains(name: str, node: Node, patterns) -> bool:
    """Whether some parameter of the layer trains, as the training program freezes (a pattern
    naming it, a block around it or one of its parameters). A later call of a module and a layer
    whose weight is tied to another's have weights whose gradient backward computes too."""
    if node.reused or node.tied:  # listing the parameters costs an RNN's layers: only here
        own = LAYERS.get(node.kind).parameters(node.args) if node.args is not None else {}
        return bool(own) and not covered(name, patterns)
    return node.params > frozen_count(name, node, patterns)


@record
class Step:
    """The training step a model's memory is estimated for."""

    batch_size: int
    frozen: tuple[str, ...] = ()
    optimizer: BoundCall | None = None


def training_step(program: Program, graph: Graph, train: Settings | None, batch_size: int | None = None) -> Step:
    """`train`'s step: its data's batch size (or `batch_size`; with no data, 1), `freeze` and
    optimizer; without a train section a batch of `batch_size` or 1 and no optimizer."""
    if train is None:
        return Step(batch_size or 1)
    data = pick(train, "data", program.data)
    batch = batch_size or (data.values["batch_size"] if data is not None else 1)
    optimizer = train.values["optimizer"]
    return Step(batch, tuple(train.values["freeze"]), optimizer if isinstance(optimizer, BoundCall) else None)


def trainer(program: Program, graph: Graph) -> Settings | None:
    """The first train section that trains `graph`."""
    return next((t for t in program.trains.values() if pick(t, "model", program.models) is graph), None)


def estimate(graph: Graph, batch: int, frozen=(), optimizer: BoundCall | None = None) -> Cost:
    """`frozen`: a train section's patterns; the model's own `freeze` patterns are added."""
    walk = forward_pass(graph, batch, frozen)
    rows = walk.rows()
    total = sum((r for r, at in zip(rows, walk.at) if isinstance(at, int)), LayerCost())
    loose = {v.root for v in walk.inputs + walk.outputs}
    return Cost(rows, total.forward, total.backward, walk.memory(optimizer, loose))


def forward_pass(graph: Graph, batch: int = 1, frozen=()) -> _Walk:
    """The layers as one training step runs them, settled: what each reads, makes and keeps."""
    walk = _Walk(batch, (*frozen, *frozen_patterns(graph)))
    scope = {i.name: walk.new(i.shape, grad=False) for i in graph.inputs}
    walk.inputs = [scope[i.name] for i in graph.inputs]
    walk.graph(graph, scope, "")
    walk.outputs = [scope[ref] for _, ref, _ in graph.outputs]
    walk.settle(walk.outputs)
    return walk


@record(eq=False)
class _Value:
    """A tensor of the forward pass: its shape, the storage it lives in, whether it needs a
    gradient and its layout (kinds.cost.Flow)."""

    shape: Shape
    root: int
    grad: bool
    layout: str = "contiguous"


@record(eq=False)
class _Step:
    """One layer as the forward pass found it; `settle` decides what of it backward sees."""

    ins: tuple[_Value, ...]
    out: _Value
    forward: int
    backward: int
    kept: tuple[int, ...]  # storages it keeps, by reference
    own: int  # bytes of the tensors only it keeps
    params: int  # of its parameters that train
    largest: int  # elements of its largest parameter tensor that trains
    more: tuple[_Value, ...] = ()  # its other values (a recurrent layer's states)


class _Walk:
    """The forward pass over the layers, blocks entered where they are used; then `settle`."""

    def __init__(self, batch: int, frozen: tuple):
        self.batch, self.frozen = batch, frozen
        self.roots: list[int] = []  # bytes of each storage, for the batch
        self.steps: list[_Step] = []
        self.at: list[int | range] = []  # per row: its step, or the steps a block's row sums
        self.live: list[bool] = []  # per step: whether backward reaches it
        self.saved: list[int] = []  # per step: the bytes counted at it
        self.kept: set[int] = set()
        self.params = self.buffers = 0
        self.nodes: list = []  # per step: its node
        self.inputs: list[_Value] = []  # the model's
        self.outputs: list[_Value] = []

    def new(self, shape: Shape, grad: bool, layout: str = "contiguous") -> _Value:
        self.roots.append(nbytes(shape) * self.batch)
        return _Value(shape, len(self.roots) - 1, grad, layout)

    def graph(self, graph: Graph, scope: dict, prefix: str) -> None:
        for node in graph.nodes:
            name, ins = prefix + node.path, [scope[ref] for ref in node.inputs]
            values = self.block(node, ins, name) if node.is_block else self.layer(node, ins, name)
            scope.update(zip((ref for ref, _ in node.values()), values))

    def block(self, node, ins: list[_Value], name: str) -> list[_Value]:
        row, first = len(self.at), len(self.steps)
        self.at.append(range(0))
        body = node.body
        scope = {i.name: v for i, v in zip(body.inputs, ins)}
        self.graph(body, scope, name + ".")
        self.at[row] = range(first, len(self.steps))
        return [scope[ref] for _, ref, _ in body.outputs]

    def layer(self, node, ins: list[_Value], name: str) -> list[_Value]:
        """Its values: the first as its kind lays it out, the others (a split's pieces, a
        recurrent layer's states) tensors of their own."""
        kind, args, shapes, out = LAYERS.get(node.kind), node.args, [v.shape for v in ins], node.shape
        learns = trains(name, node, self.frozen)
        same = tuple(next(j for j, w in enumerate(ins) if w is v) for v in ins)
        flow = Flow(tuple(v.grad for v in ins), tuple(v.layout for v in ins), learns, same)
        result = self.output(kind.layout(args, shapes), ins, out, flow.any and out.dtype == "float")
        more = tuple(self.new(shape, result.grad) for shape in node.shapes[1:])
        self.params += node.params
        self.buffers += 0 if node.reused else kind.buffers(args, shapes)
        step = _Step(tuple(ins), result, kind.flops(args, shapes, out), 0, (), 0, 0, 0, more)
        if flow.any:
            saved = kind.saved(args, shapes, out, flow)
            kept = tuple(ins[k].root for k in saved.inputs) + (result.root,) * saved.output
            own = saved.own * self.batch + saved.fixed
            largest = kind.largest(args, shapes) if learns else 0
            backward = kind.backward_flops(args, shapes, out, flow)
            step = _Step(tuple(ins), result, step.forward, backward, kept, own, node.params * learns, largest, more)
        self.at.append(len(self.steps))
        self.steps.append(step)
        self.nodes.append(node)
        return [result, *more]

    def output(self, layout: str, ins: list[_Value], out: Shape, grad: bool) -> _Value:
        source = ins[0]
        if layout == "view" or (layout == "reshape" and source.layout == "contiguous"):
            return _Value(out, source.root, grad, source.layout)
        if layout == "strided":
            return _Value(out, source.root, grad, "strided")
        laid = {"like": source.layout, "time-major": "time-major"}.get(layout, "contiguous")
        return self.new(out, grad, laid)

    def settle(self, outputs: list[_Value]) -> None:
        """Backward reaches only the layers an output that needs a gradient depends on."""
        needed = {id(v) for v in outputs if v.grad}
        for step in reversed(self.steps):
            self.live.append(any(id(v) in needed and v.grad for v in (step.out, *step.more)))
            if self.live[-1]:
                needed.update(id(v) for v in step.ins)
        self.live.reverse()
        self.saved = [self._keep(s) if live else 0 for s, live in zip(self.steps, self.live)]

    def _keep(self, step: _Step) -> int:
        """Its own tensors and the storages no earlier layer keeps."""
        fresh = {r for r in step.kept if r not in self.kept}
        self.kept |= fresh
        return step.own + sum(self.roots[r] for r in fresh)

    def rows(self) -> tuple[LayerCost, ...]:
        steps = zip(self.steps, self.live, self.saved)
        leaf = [LayerCost(s.forward, s.backward * live, saved) for s, live, saved in steps]
        return tuple(leaf[at] if isinstance(at, int) else sum(leaf[at.start : at.stop], LayerCost()) for at in self.at)

    def memory(self, optimizer: BoundCall | None, loose: set[int]) -> Memory:
        """`loose`: the storages of the model's inputs and outputs, held through the step."""
        f, live = BYTES["float"], [s for s, live in zip(self.steps, self.live) if live]
        state = scratch = 0
        if optimizer is not None:
            args = optimizer.args()
            state, scratch = optimizer.kind.state(args), optimizer.kind.scratch(args)
        gradients = sum(s.params for s in live) * f  # a layer backward never reaches gets none
        inputs = sum(self.roots[r] for r in loose - self.kept)
        steady = self.params * f + self.buffers + state * gradients + inputs
        step = gradients + scratch * max((s.largest for s in live), default=0) * f
        peak = steady + max(self._backward_peak(), step)
        name = optimizer.kind.name if optimizer is not None else None
        return Memory(
            self.batch, name, self.params * f, self.buffers, gradients, state * gradients, sum(self.saved), inputs, peak
        )

    def _backward_peak(self) -> int:
        """Backward runs the layers in reverse: at layer i, what the layers up to i keep is still
        held, the gradients of the layers from i on exist, and i's data gradients are in flight."""
        kept, peak = [0], 0
        for saved in self.saved:
            kept.append(kept[-1] + saved)
        grads = 0
        for i in range(len(self.steps) - 1, -1, -1):
            step = self.steps[i]
            if self.live[i]:
                grads += step.params * BYTES["float"]
                data = sum(nbytes(v.shape) * self.batch for v in (*step.ins, step.out) if v.grad)
                peak = max(peak, kept[i + 1] + grads + data)
        return peak
