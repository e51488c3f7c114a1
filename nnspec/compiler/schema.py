"""What the data, train and search sections accept: their keys as `Param`s, like a kind's."""

from __future__ import annotations

from nnspec import bytesize
from nnspec.compiler.ir import CallValue, Ref
from nnspec.kinds.augment import AUGMENTS
from nnspec.kinds.base import Registry
from nnspec.kinds.inits import INITS
from nnspec.kinds.losses import LOSSES
from nnspec.kinds.metrics import METRICS
from nnspec.kinds.optim import OPTIMIZERS, SCHEDULERS
from nnspec.kinds.params import Bool, Float, Int, Optional, Param, Seq, Str
from nnspec.kinds.sources import GOALS, SOURCES
from nnspec.record import record


@record(eq=False)
class CallTo:
    """A call to a kind of `registry`; its name and arguments are checked by the settings pass."""

    registry: Registry

    def describe(self) -> str:
        article = "an" if self.registry.family[0] in "aeiou" else "a"
        return f"{article} {self.registry.family} such as {self.registry.example}"

    def check(self, v):
        return None if isinstance(v, CallValue) else ("type", self.describe())


@record(eq=False)
class DictOf:
    """{"pattern": value, ...} with string keys."""

    item: object

    def describe(self) -> str:
        return 'a dict such as {"h.*": ' + self.item.describe().split(" such as ")[-1] + "}"

    def check(self, v):
        if not isinstance(v, dict):
            return "type", self.describe()
        for item in v.values():
            problem = self.item.check(item)
            if problem:  # described as a whole: the message shows the whole dict
                return problem[0], self.describe()
        return None


@record(eq=False)
class RefTo:
    """The name of another section of the given kind."""

    section: str

    def describe(self) -> str:
        return f"the name of a {self.section} section"

    def check(self, v):
        return None if isinstance(v, Ref) else ("type", self.describe())


@record(eq=False)
class SplitType:
    """{train: 0.7, val: 0.15, test: 0.15}: fractions of the samples, summing to 1."""

    def describe(self) -> str:
        return "a dict of fractions such as {train: 0.8, val: 0.2}"

    def check(self, v):
        if not isinstance(v, dict) or not v or set(v) - {"train", "val", "test"} or "train" not in v:
            return "type", self.describe() + " with keys train, val, test"
        if any(not isinstance(x, (int, float)) or isinstance(x, bool) or not 0 <= x <= 1 for x in v.values()):
            return "range", "fractions between 0 and 1"
        if abs(sum(v.values()) - 1) > 1e-6:
            return "range", f"fractions that sum to 1 (these sum to {sum(v.values()):g})"
        return None


@record(eq=False)
class MemorySize:
    """Bytes, or a string such as "8GB" (1000**3 bytes) or "1.5GiB" (1024**3)."""

    def describe(self) -> str:
        return f"a size such as {bytesize.EXAMPLE}"

    def check(self, v):
        if isinstance(v, int) and not isinstance(v, bool):
            return None if v >= 1 else ("range", "at least 1 byte")
        if not isinstance(v, str):
            return "type", self.describe()
        return None if bytesize.parse(v) is not None else ("range", self.describe())


@record(eq=False)
class Section:
    """The keys a settings section accepts."""

    name: str
    params: tuple[Param, ...]
    open_keys: bool = False  # search: other keys are the dimensions searched

    def validate(self, args):
        return []


DATA = Section(
    "data",
    (
        Param("source", CallTo(SOURCES)),
        Param("features", Optional(Seq(Str(), min_len=1)), None, doc="feature columns; default: all but the target"),
        Param("target", Optional(Str()), None),
        Param("split", SplitType(), {"train": 0.8, "val": 0.2}),
        Param("batch_size", Int(1), 32),
        Param("shuffle", Bool(), True),
        Param("drop_last", Bool(), False),
        Param("normalize", Str(("none", "standard", "minmax", "imagenet")), "none"),
        Param("mean", Optional(Seq(Float(), min_len=1)), None, doc="per-channel mean subtracted (with `std`)"),
        Param("std", Optional(Seq(Float(0, lo_open=True), min_len=1)), None, doc="per-channel deviation divided by"),
        Param("augment", Seq(CallTo(AUGMENTS)), [], doc="random changes to training batches only"),
        Param("in_memory", Bool(), True, doc="false: read samples as batches need them (image folders)"),
        Param("num_workers", Int(0), 0, doc="DataLoader worker processes when in_memory = false"),
        Param("num_classes", Optional(Int(2)), None),
        Param("one_hot", Bool(), False, doc="class targets as one-hot float vectors"),
    ),
)

TRAIN = Section(
    "train",
    (
        Param("model", Optional(RefTo("model")), None),
        Param("data", Optional(RefTo("data")), None),
        Param("loss", CallTo(LOSSES)),
        Param("optimizer", CallTo(OPTIMIZERS)),
        Param("scheduler", Optional(CallTo(SCHEDULERS)), None),
        Param("epochs", Int(1), 10),
        Param("metrics", Seq(CallTo(METRICS)), []),
        Param("device", Str(("auto", "cpu", "cuda", "mps")), "auto"),
        Param("seed", Int(0, 2**32 - 1), 0, doc="what NumPy's and torch's generators take"),
        Param("monitor", Str(), "val_loss", doc="the metrics.csv column that picks best.pt"),
        Param("mode", Str(("min", "max")), "min"),
        Param("patience", Optional(Int(1)), None, doc="early stopping: epochs without improvement"),
        Param("clip_grad_norm", Optional(Float(0, lo_open=True)), None),
        Param("accumulate", Int(1), 1, doc="gradient accumulation: batches per optimizer step"),
        Param("init", DictOf(CallTo(INITS)), {}, doc="layer-name pattern -> initialiser"),
        Param("from", Optional(Str()), None, doc="a checkpoint, state_dict or .safetensors file to start from"),
        Param("skip_mismatched", Bool(), False, doc="with `from`: train tensors of another shape from scratch"),
        Param("exclude", Seq(Str()), [], doc="with `from`: tensor-name patterns deliberately not loaded"),
        Param("freeze", Seq(Str()), [], doc="layer-name patterns whose parameters do not train"),
        Param("layer_lr", DictOf(Float(0, lo_open=True)), {}, doc="layer-name pattern -> learning rate"),
        Param("max_params", Optional(Int(1)), None, doc="lint error (E510) for a model with more parameters"),
        Param("max_memory", Optional(MemorySize()), None, doc="lint error (E519) for a step estimated to need more"),
        Param("precision", Str(("32", "bf16", "fp16")), "32", doc="training forward under autocast; fp16: CUDA"),
        Param("compile", Bool(), False, doc="train through torch.compile (slow to start)"),
        Param("sync_batchnorm", Bool(), False, doc="under torchrun on CUDA: SyncBatchNorm"),
    ),
)

SEARCH = Section(
    "search",
    (
        Param("train", Optional(RefTo("train")), None),
        Param("method", Str(("grid", "random")), "random"),
        Param("trials", Int(1), 10),
        Param("goal", CallTo(GOALS), None),
    ),
    open_keys=True,
)

SCHEMAS = {s.name: s for s in (DATA, TRAIN, SEARCH)}
