"""`nnspec run --nproc N`: the run's program.py under torchrun (torch.distributed.run), one
process per rank, on this machine or several; what the processes report, as coded errors."""

from __future__ import annotations

import csv
import ctypes
import errno
import functools
import os
import re
import signal
import socket
import subprocess
import sys

from nnspec.errors import UserError
from nnspec.record import record

# A restarted worker (--max-restarts) otherwise reads the dead worker's address from the agent's
# store, and most restarts fail or hang.
ENVIRONMENT = {"TORCH_DISABLE_SHARE_RDZV_TCP_STORE": "1"}
DEFAULT_PORT = 29500  # torchrun's
CODED = re.compile(r"^error\[(E\d+)\]: (.*)$")


@record
class Launch:
    """How many processes on how many machines; torchrun's own flags of the same names."""

    nproc: int
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int | None = None
    max_restarts: int = 0


def torchrun_command(launch: Launch, script: str, argv: list[str]) -> list[str]:
    """One machine without a port: `--standalone` (torchrun picks a free one)."""
    command = [sys.executable, "-m", "torch.distributed.run"]
    command += ["--nproc-per-node", str(launch.nproc), "--max-restarts", str(launch.max_restarts)]
    if launch.nnodes == 1 and launch.master_port is None:
        command.append("--standalone")
    else:
        port = str(launch.master_port or DEFAULT_PORT)
        command += ["--nnodes", str(launch.nnodes), "--node-rank", str(launch.node_rank)]
        command += ["--master-addr", launch.master_addr, "--master-port", port]
    return [*command, script, *argv]


def launch(launch: Launch, script: str, argv: list[str]) -> None:
    """Run `script` under torchrun; a failure is a UserError with the processes' own code."""
    env = {**os.environ, **ENVIRONMENT}
    command = torchrun_command(launch, script, argv)
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=_dying_with_us())
    _, stderr = process.communicate()
    if process.returncode != 0:
        raise _failure(process.returncode, stderr)


def check_port(launch: Launch) -> None:
    """The first machine hosts the rendezvous on --master-port: in use, it is refused before
    anything starts or is written."""
    if launch.node_rank != 0 or launch.master_port is None:
        return
    port = launch.master_port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("", port))
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            raise UserError(f"--master-port {port} is in use; choose another port", "E630") from None


def _failure(returncode: int, stderr: str) -> UserError:
    """The first coded message a process printed; else torchrun's last lines."""
    for line in stderr.splitlines():
        coded = CODED.match(line)
        if coded:
            return UserError(coded[2], coded[1])
    tail = "\n".join(stderr.rstrip().splitlines()[-12:])
    return UserError(f"the training processes failed (torchrun's exit status {returncode}):\n{tail}", "E635")


def _dying_with_us():
    """Linux: what makes torchrun die with nnspec (kill -9 too), and so its workers (see the
    program); prctl is looked up here, as the child may only call it between fork and exec."""
    if sys.platform != "linux":
        return None
    return functools.partial(ctypes.CDLL(None).prctl, 1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def read_rows(path: str) -> list[dict]:
    """metrics.csv as the rows an in-process run returns (numbers as numbers)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: int(v) if k == "epoch" else float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def launch_options(args) -> Launch | None:
    """`nnspec run`'s --nproc and the flags that go with it; None without --nproc (in-process)."""
    flags = (args.nnodes != 1, args.node_rank, args.master_addr, args.master_port is not None, args.max_restarts)
    if args.nproc is None:
        if any(flags):
            raise UserError("--nnodes, --node-rank, --master-addr/port and --max-restarts need --nproc", "E634")
        return None
    if args.nnodes > 1 and args.master_addr is None:
        raise UserError("--nnodes needs --master-addr: the address of the machine of --node-rank 0", "E634")
    checks = (
        ("--nproc", args.nproc, 1, None),
        ("--nnodes", args.nnodes, 1, None),
        ("--node-rank", args.node_rank, 0, args.nnodes - 1),
        ("--max-restarts", args.max_restarts, 0, None),
        ("--master-port", args.master_port if args.master_port is not None else 1, 1, 65535),
    )
    for flag, value, low, high in checks:
        if value < low or (high is not None and value > high):
            within = f"at least {low}" if high is None else f"in {low}..{high}"
            raise UserError(f"{flag} must be {within}, not {value}", "E634")
    address = args.master_addr or Launch.master_addr  # one machine: this one
    return Launch(args.nproc, args.nnodes, args.node_rank, address, args.master_port, args.max_restarts)
