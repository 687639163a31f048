"""`digitgan train --nproc K`: run K ranks of `digitgan train` on this machine and see every one of them end.

What torchrun does for one machine (a rendezvous store, each rank's environment), through torch's public API only:
the launcher serves a TCPStore and names it to the ranks in digitgan's own variables (LAUNCHER_STORE), and each rank
joins the process group on that store (`init_process_group(store=...)`, training/distributed.py). Plus what a user
of the command expects from it:
- the ranks' own exit codes come back (2 a user error, 3 divergence, 130 interrupted), not a launcher traceback;
  a user error's or a divergence's line is said once, by the launcher, from the rank that failed
  (runtime.say_stop_line);
- when one rank fails, the others are asked to stop (SIGTERM: a clean checkpoint where they can) and killed if
  they have not ended within `grace` seconds; when one rank has finished, the others get `exit_wait` seconds to
  finish too, then they are killed and the launch fails with a line that says so — nothing is left behind;
- Ctrl-C / SIGTERM / SIGHUP (a closed terminal) reach every rank exactly once (the ranks run in their own process
  group, so the terminal's signals reach only the launcher, which forwards them); a second Ctrl-C forwards a second
  one (abort);
- a rank dies with its launcher, so even `kill -9` of the launcher leaves no orphan: each rank watches its parent
  itself (`watch_launcher`, called first thing in the rank: PR_SET_PDEATHSIG on Linux, else a thread that polls
  getppid), nothing runs between fork and exec.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType

from digitgan.runtime import LAUNCHER_ERRORS, cpu_count, rank_error_line

GRACE_SECONDS = 30.0
EXIT_WAIT_SECONDS = 120.0
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
LAUNCHER_STORE = "DIGITGAN_LAUNCHER_STORE"   # host:port of the launcher's TCPStore
LAUNCHER_PID = "DIGITGAN_LAUNCHER_PID"       # the process a rank must not outlive
_PR_SET_PDEATHSIG = 1


def launcher_store(environ: dict[str, str] | None = None) -> tuple[str, int] | None:
    """(host, port) of the store of the `--nproc` launcher this process is a rank of; None otherwise."""
    value = (os.environ if environ is None else environ).get(LAUNCHER_STORE)
    if not value:
        return None
    host, _, port = value.rpartition(":")
    return host, int(port)


def watch_launcher(environ: dict[str, str] | None = None) -> None:
    """In a rank of the `--nproc` launcher: die with it. Asks the kernel for SIGKILL when the parent ends (Linux),
    then checks that the parent is still the launcher (it may have died before the request); where the kernel
    cannot be asked, a daemon thread polls the parent once a second. Outside such a rank: nothing."""
    value = (os.environ if environ is None else environ).get(LAUNCHER_PID)
    if not value:
        return
    launcher = int(value)
    try:
        armed = ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    except (OSError, AttributeError):  # not Linux
        armed = False
    if os.getppid() != launcher:
        os.kill(os.getpid(), signal.SIGKILL)
    if not armed:
        def poll() -> None:
            while os.getppid() == launcher:
                time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=poll, name="digitgan-launcher-watch", daemon=True).start()


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode  # killed by signal N -> 128 + N, as a shell says


class Launch:
    """The ranks of one launch. `run()` returns the exit code the user should see."""

    def __init__(self, nproc: int, command: Sequence[str], grace: float = GRACE_SECONDS,
                 exit_wait: float = EXIT_WAIT_SECONDS, note: Callable[[str], None] | None = None) -> None:
        """command: what each rank runs (e.g. [python, -m, digitgan, train, ...]), with the rank's environment."""
        self.nproc, self.command, self.grace, self.exit_wait = nproc, list(command), grace, exit_wait
        self.note = note or (lambda text: print(f"digitgan: {text}", file=sys.stderr, flush=True))
        self.processes: list[subprocess.Popen] = []
        self.interrupts = 0
        self.errors = ""  # the folder where ranks leave their stopping line (runtime.say_stop_line)

    def _environment(self, port: int, rank: int) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", str(max(1, cpu_count() // self.nproc)))
        env.update(WORLD_SIZE=str(self.nproc), LOCAL_WORLD_SIZE=str(self.nproc), RANK=str(rank), LOCAL_RANK=str(rank),
                   **{LAUNCHER_STORE: f"127.0.0.1:{port}", LAUNCHER_PID: str(os.getpid()),
                      LAUNCHER_ERRORS: self.errors})
        return env

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        self.interrupts += 1
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signum)

    def _end_all(self, why: str) -> None:
        """SIGTERM to the ranks still running (a clean stop where they can), SIGKILL to those still there after the
        grace period. Quiet when they stop: the rank that failed has said why."""
        running = [p for p in self.processes if p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.note(f"{why}; rank {self.processes.index(process)} did not stop within {self.grace:.0f} s "
                          "of SIGTERM and was killed")
                process.kill()
                process.wait()

    def run(self) -> int:
        from torch.distributed import TCPStore

        store = TCPStore("127.0.0.1", 0, None, True, wait_for_workers=False)  # port 0: the system picks a free one
        previous = {s: signal.signal(s, self._forward) for s in FORWARDED}
        self.errors = tempfile.mkdtemp(prefix="digitgan-launch-")
        try:
            for rank in range(self.nproc):
                self.processes.append(subprocess.Popen(self.command, env=self._environment(store.port, rank),
                                                       start_new_session=True))
            return self._watch()
        finally:
            self._end_all("the launch is ending")
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            shutil.rmtree(self.errors, ignore_errors=True)
            del store

    def _watch(self) -> int:
        first_finished: float | None = None
        while True:
            codes = [p.poll() for p in self.processes]
            failed = [(rank, code) for rank, code in enumerate(codes) if code not in (None, 0)]
            if failed:
                rank, code = failed[0]
                if any(c is None for c in codes):
                    self._end_all(f"rank {rank} exited with code {_exit_code(code)}")
                self._say_rank_error(rank)
                stopped = (130, *(128 + signum for signum in FORWARDED))
                return 130 if self.interrupts and _exit_code(code) in stopped else _exit_code(code)
            if all(code == 0 for code in codes):
                return 0
            if first_finished is None and 0 in codes:
                first_finished = time.monotonic()
            if first_finished is not None and time.monotonic() - first_finished > self.exit_wait:
                stuck = [rank for rank, code in enumerate(codes) if code is None]
                self.note(f"rank(s) {', '.join(map(str, stuck))} did not end within {self.exit_wait:.0f} s of another "
                          "rank finishing; ending them")
                self._end_all("a rank hung at exit")
                return 1
            time.sleep(0.05)


    def _say_rank_error(self, failed: int) -> None:
        """The user error's line of the rank that failed (else of the lowest rank that left one), once."""
        order = [failed, *(rank for rank in range(self.nproc) if rank != failed)]
        line = next((text for text in (rank_error_line(self.errors, rank) for rank in order) if text), None)
        if line:
            print(line, file=sys.stderr, flush=True)


def launch(nproc: int, args: Sequence[str]) -> int:
    """Run `digitgan train ARGS` as `nproc` DDP ranks on this machine; returns the exit code (see Launch)."""
    return Launch(nproc, [sys.executable, "-m", "digitgan", "train", *args]).run()
