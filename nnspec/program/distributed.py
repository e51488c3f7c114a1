"""Several processes under torchrun: each rank trains on its part of every batch, rank 0 writes.

Without torchrun's environment (WORLD_SIZE) no process group starts: the process is rank 0 of
1, its parts are whole batches and its sums its own.
"""

import ctypes
import datetime
import os
import shutil
import signal
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from nnspec.program.console import pick_device
from nnspec.program.errors import DataError

# Settings: each program writes the spec's values here.
SYNC_BATCHNORM = False
COMPILE = False  # train through torch.compile
PRECISION = "32"  # "bf16" or "fp16": the training forward runs under autocast

# A collective that waits longer (a rank died or hangs) is an error, not a hang.
TIMEOUT = 300


class Processes:
    """`with Processes(args) as device:` this process's device; under torchrun it joins the
    process group first (nccl on CUDA, gloo otherwise) and leaves it at the end."""

    def __init__(self, args):
        self.args = args

    def __enter__(self):
        device = pick_device(self.args.device)
        if PRECISION == "fp16" and device.type != "cuda":
            message = f'precision = "fp16" needs CUDA (the device is {device.type})'
            raise DataError("E632", f'{message}; "bf16" trains on the CPU')
        if "WORLD_SIZE" not in os.environ:
            return device
        die_with_launcher()
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        timeout = datetime.timedelta(seconds=TIMEOUT)
        dist.init_process_group(backend, timeout=timeout)
        # torchrun restarted the workers after one failed: go on from the last checkpoint
        restarts = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
        if restarts and os.path.exists(os.path.join(self.args.out, "last.pt")):
            self.args.resume = True
        return device

    def __exit__(self, *exc):
        if dist.is_initialized():
            dist.destroy_process_group()


def die_with_launcher():
    """Linux: a worker whose torchrun is killed (kill -9) stops too; it would train on alone."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def rank():
    return dist.get_rank() if dist.is_initialized() else 0


def world():
    return dist.get_world_size() if dist.is_initialized() else 1


def barrier():
    if dist.is_initialized():
        dist.barrier()


def rank_part(start, stop):
    """This rank's contiguous part of positions start..stop-1 (parts differ by one at most)."""
    n, r, w = stop - start, rank(), world()
    return slice(start + r * n // w, start + (r + 1) * n // w)


def share(samples, batch):
    """The weight of this rank's mean loss over `samples` of a `batch`: DDP averages the
    ranks' gradients, and so makes the gradient of the whole batch's mean loss."""
    return samples * world() / batch


def all_sum(*values):
    """Sums over the ranks, as float64 tensors (in one process, the values themselves)."""
    if not dist.is_initialized():
        return values
    device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    summed = torch.tensor(
        [float(v) for v in values], dtype=torch.float64, device=device
    )
    dist.all_reduce(summed)
    return tuple(summed)


def same_buffers(model):
    """Rank 0's batch-norm statistics on every rank (each rank's last step updated its own):
    every rank evaluates the model rank 0 saves."""
    if dist.is_initialized():
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)


def check_ranks(batches):
    """Every rank takes part of every training batch, so each needs a sample of the smallest."""
    smallest = batches.size(len(batches) - 1) if len(batches) else 0
    if world() > max(smallest, 1):  # one process without a batch is E513, found before
        message = f"{world()} processes share each training batch, but the smallest"
        fix = "use fewer processes, a larger batch_size or drop_last = true"
        raise DataError("E631", f"{message} holds {smallest} samples; {fix}")


def rank_states(state):
    """Every rank's `state` (its RNG's), rank by rank; one process's own state."""
    if not dist.is_initialized():
        return state
    states = [None] * world()
    dist.all_gather_object(states, state)
    return states


def own_state(saved, path):
    """This rank's state of those rank_states gave, for as many processes as were saved."""
    saved_world = len(saved) if isinstance(saved, list) else 1
    if saved_world != world():
        message = f"{path} was written by {saved_world} processes, not {world()}"
        raise DataError("E633", f"{message}; resume with as many (--nproc)")
    return saved[rank()] if isinstance(saved, list) else saved


class Autocast(nn.Module):
    """The model's forward at lower precision; its outputs back in float32 for the loss."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        dtype = torch.bfloat16 if PRECISION == "bf16" else torch.float16
        with torch.autocast(x.device.type, dtype=dtype):
            return self.model(x).float()


def training_model(model, report):
    """What train_epoch calls: the model, at its precision, compiled if the spec says so, and
    under torchrun in DistributedDataParallel (gradients averaged over the ranks)."""
    if SYNC_BATCHNORM and dist.is_initialized():
        sync_batchnorm(model, report)
    if COMPILE and not next(model.parameters()).is_cuda:
        check_compiler()
    trained = model if PRECISION == "32" else Autocast(model)
    if dist.is_initialized():
        trained = DistributedDataParallel(trained)  # rank 0's weights on every rank
        torch.manual_seed(torch.initial_seed() + rank())  # dropout masks of their own
    return torch.compile(trained) if COMPILE else trained


def sync_batchnorm(model, report):
    """Batch norm over the whole batch, where torch has SyncBatchNorm: CUDA (and XPU)."""
    if next(model.parameters()).is_cuda:  # in place: the root is never batch norm
        nn.SyncBatchNorm.convert_sync_batchnorm(model)
    else:
        report.message("sync_batchnorm: CUDA only; each rank uses its own statistics")


def check_compiler():
    """torch.compile builds CPU kernels with a C++ compiler: without one it fails late."""
    compiler = os.environ.get("CXX", "g++")
    if shutil.which(compiler) is None:
        message = f"compile = true: torch.compile builds CPU kernels with {compiler}"
        fix = "install it, set CXX or set compile = false"
        raise DataError("E636", f"{message}, which is not on PATH; {fix}")
