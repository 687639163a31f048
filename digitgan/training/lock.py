"""A run directory has one owner: the training process holds an exclusive lock on RUN/.lock while it writes.

The lock is an flock(2) on an open file, so the kernel drops it when the process ends in any way (kill -9
included): a lock left by a dead process never blocks a resume. The file itself tells a second process who owns
the run (pid, host, command, start time), for its one-line error.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType

from digitgan.errors import UserError
from digitgan.files import make_folder

LOCK_NAME = ".lock"


class RunLock:
    """Context manager: `with RunLock(run_dir): ...` holds the run; UserError if another process holds it."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_NAME
        self.handle: int | None = None

    def acquire(self) -> RunLock:
        make_folder(self.path.parent)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _describe(self.path)
            os.close(handle)
            raise UserError(f"{self.path.parent} is being trained by {owner}; wait for it to finish or stop it "
                            "(Ctrl-C saves a checkpoint) before writing into this run") from None
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv)[:300],
                 "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(handle, 0)
        os.pwrite(handle, (json.dumps(owner) + "\n").encode(), 0)
        self.handle = handle
        return self

    def release(self) -> None:
        if self.handle is not None:
            os.ftruncate(self.handle, 0)
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            os.close(self.handle)
            self.handle = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


def _describe(path: Path) -> str:
    try:
        owner = json.loads(path.read_text())
        return f"process {owner['pid']} on {owner['host']} (`{owner['command']}`, since {owner['started']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
