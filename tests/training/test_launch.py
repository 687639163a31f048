"""The `--nproc` launcher with stand-in ranks (plain Python scripts): exit codes come back, a failing or hanging
rank ends the others, signals reach each rank once, and no rank outlives the launcher."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from digitgan.training.launch import Launch

RANK = """
import os, signal, sys, time
from pathlib import Path
from digitgan.runtime import say_stop_line
from digitgan.training.launch import watch_launcher
watch_launcher()  # first thing, as `digitgan train` does in a rank
rank = int(os.environ["RANK"])
out = Path(sys.argv[1])
(out / f"pid{rank}").write_text(str(os.getpid()))
(out / f"env{rank}").write_text(" ".join(os.environ[k] for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK",
                                                                  "DIGITGAN_LAUNCHER_STORE")))
(out / f"keys{rank}").write_text(" ".join(sorted(os.environ)))
behaviour = sys.argv[2 + rank]
seen = []
def handle(signum, frame):
    seen.append(signum)
    (out / f"signals{rank}").write_text(",".join(map(str, seen)))
    if behaviour != "stubborn":
        raise SystemExit(130)
signal.signal(signal.SIGINT, handle)
signal.signal(signal.SIGHUP, handle)
signal.signal(signal.SIGTERM, signal.SIG_IGN if behaviour == "stubborn" else handle)
if behaviour == "usererror":  # what the CLI does with a UserError in a rank
    say_stop_line(f"digitgan: error: rank {rank} refused the config")
    raise SystemExit(2)
if behaviour.startswith("exit"):
    time.sleep(0.3)
    raise SystemExit(int(behaviour[4:]))
while True:
    time.sleep(0.05)
"""


def ranks(tmp_path: Path, *behaviours: str) -> list[str]:
    script = tmp_path / "rank.py"
    script.write_text(RANK)
    return [sys.executable, str(script), str(tmp_path), *behaviours]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def pids(tmp_path: Path, count: int) -> list[int]:
    return [int((tmp_path / f"pid{rank}").read_text()) for rank in range(count)]


def test_every_rank_gets_its_environment_and_success_is_zero(tmp_path):
    assert Launch(2, ranks(tmp_path, "exit0", "exit0")).run() == 0
    envs = [(tmp_path / f"env{rank}").read_text().split() for rank in range(2)]
    assert [e[:3] for e in envs] == [["0", "2", "0"], ["1", "2", "1"]] and envs[0][3] == envs[1][3]
    assert envs[0][3].startswith("127.0.0.1:")
    added = {key for key in (tmp_path / "keys0").read_text().split() if key not in os.environ}
    # the launch contract is digitgan's own and the standard rank variables: no private variable of torch's
    assert added <= {"WORLD_SIZE", "LOCAL_WORLD_SIZE", "RANK", "LOCAL_RANK", "OMP_NUM_THREADS",
                     "DIGITGAN_LAUNCHER_STORE", "DIGITGAN_LAUNCHER_PID", "DIGITGAN_LAUNCHER_ERRORS"}, added


def test_a_failing_rank_gives_its_code_and_the_others_are_ended(tmp_path):
    started = time.monotonic()
    assert Launch(2, ranks(tmp_path, "wait", "exit3"), grace=10).run() == 3
    assert time.monotonic() - started < 10
    assert not any(alive(pid) for pid in pids(tmp_path, 2))
    assert (tmp_path / "signals0").read_text() == str(int(signal.SIGTERM))  # asked to stop cleanly, once


def test_a_user_error_of_any_rank_is_said_once_by_the_launcher(tmp_path, capfd):
    """Rank 1 fails first while rank 0 is still busy (ended by the launcher before it could speak): the line of the
    rank that failed is said once, and the folder it was left in is gone after the launch."""
    launch = Launch(2, ranks(tmp_path, "wait", "usererror"), grace=10)
    assert launch.run() == 2
    lines = capfd.readouterr().err.strip().splitlines()
    assert lines == ["digitgan: error: rank 1 refused the config"]
    assert not Path(launch.errors).exists()


def test_a_rank_that_hangs_after_another_finished_is_killed(tmp_path):
    notes = []
    code = Launch(2, ranks(tmp_path, "exit0", "stubborn"), grace=1, exit_wait=1, note=notes.append).run()
    assert code == 1 and not alive(pids(tmp_path, 2)[1])
    assert any("did not end within 1 s" in note for note in notes)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP])
def test_ctrl_c_or_a_closed_terminal_reaches_each_rank_once_and_gives_130(tmp_path, signum):
    def interrupt():
        while not (tmp_path / "pid1").exists() or not (tmp_path / "pid0").exists():
            time.sleep(0.05)
        os.kill(os.getpid(), signum)

    threading.Thread(target=interrupt, daemon=True).start()
    assert Launch(2, ranks(tmp_path, "wait", "wait")).run() == 130
    assert all((tmp_path / f"signals{rank}").read_text() == str(int(signum)) for rank in range(2))


def test_a_rank_whose_launcher_is_already_gone_ends_itself():
    code = "from digitgan.training.launch import watch_launcher; watch_launcher(); print('outlived')"
    env = dict(os.environ, DIGITGAN_LAUNCHER_PID="1")  # not this process's parent
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGKILL and "outlived" not in result.stdout


def test_no_rank_outlives_a_killed_launcher(tmp_path):
    code = (f"import sys; sys.path.insert(0, {str(Path.cwd())!r}); from digitgan.training.launch import Launch; "
            f"Launch(2, {ranks(tmp_path, 'stubborn', 'stubborn')!r}).run()")
    launcher = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while not (tmp_path / "pid1").exists() or not (tmp_path / "pid0").exists():
        assert time.monotonic() < deadline and launcher.poll() is None
        time.sleep(0.05)
    launcher.kill()  # SIGKILL: the launcher cannot clean up; the kernel ends its ranks
    launcher.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids(tmp_path, 2)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids(tmp_path, 2))
