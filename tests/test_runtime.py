"""Process settings every digitgan command applies: threads and the allocator."""

import pytest
import torch

from digitgan import runtime


def test_tune_allocator_is_idempotent():
    first = runtime.tune_allocator()
    assert isinstance(first, bool)
    assert runtime.tune_allocator() == first


def test_tune_allocator_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(runtime, "_allocator_tuned", False)
    monkeypatch.setenv("DIGITGAN_KEEP_FREED_MEMORY", "0")
    assert runtime.tune_allocator() is False


def test_set_threads():
    before = torch.get_num_threads()
    try:
        assert runtime.set_threads(1) == 1 and torch.get_num_threads() == 1
        assert runtime.set_threads(None) == runtime.cpu_count()
        with pytest.raises(ValueError):
            runtime.set_threads(0)
    finally:
        torch.set_num_threads(before)


def test_openmp_defaults_are_set_unless_the_user_chose():
    environ = {}
    assert runtime.apply_openmp_defaults(environ, loaded=()) == runtime.OPENMP_DEFAULTS  # before torch loads
    assert environ == runtime.OPENMP_DEFAULTS
    for user in ({"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "7"}, {"DIGITGAN_OPENMP_DEFAULTS": "0"}):
        environ = dict(user)
        assert runtime.apply_openmp_defaults(environ, loaded=()) == {} and environ == user


def test_openmp_defaults_come_too_late_once_torch_is_loaded():
    assert runtime.apply_openmp_defaults({}) == {}


def test_governor_moves_to_one_thread_when_that_trains_faster_and_back(monkeypatch):
    applied = []
    monkeypatch.setattr(runtime.ThreadGovernor, "_apply",
                        lambda self, threads: (applied.append(threads), setattr(self, "current", threads))[1]
                        or threads)
    governor = runtime.ThreadGovernor(2, window=1.0, explore_every=3)
    speed = {2: 1000.0, 1: 600.0}  # alone: two threads win

    def run(windows):
        for _ in range(windows):
            governor.record(1.0, int(speed[governor.current]))

    run(12)
    assert governor.current == 2 and applied and set(applied) == {1, 2}, "it explored one thread and came back"
    speed[2] = 300.0  # another busy process arrives: two threads now lose
    run(3)
    assert governor.current == 1
    speed[2] = 1000.0  # it leaves
    run(40)
    assert governor.current == 2
    assert not runtime.ThreadGovernor(1).active and runtime.ThreadGovernor(1).record(5.0, 100) is None


@pytest.mark.parametrize("user, expected", [({}, runtime.OPENMP_DEFAULTS["GOMP_SPINCOUNT"]),
                                            ({"GOMP_SPINCOUNT": "123"}, "123"),
                                            ({"OMP_WAIT_POLICY": "PASSIVE"}, None)])
def test_a_digitgan_process_has_the_defaults_and_the_users_setting_wins(user, expected):
    """In a real `digitgan` process, before torch starts: our default, or exactly what the user set."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in runtime.OPENMP_USER_KEYS}
    env.update(user)
    code = ("import os, sys; from digitgan.command import main; "
            "sys.argv = ['digitgan', '--version']; code = main(['--version']); "
            "print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.split()
    assert out[-3] == str(expected) and out[-1] in ("True", "False")
    if "OMP_WAIT_POLICY" in user:
        assert out[-2] == "PASSIVE"


def test_a_user_error_is_handed_to_the_launcher_or_said_by_rank_0(tmp_path, capsys):
    launched = {"RANK": "1", "WORLD_SIZE": "2", runtime.LAUNCHER_ERRORS: str(tmp_path)}
    runtime.say_stop_line("digitgan: error: x", launched)
    assert runtime.rank_error_line(str(tmp_path), 1) == "digitgan: error: x"
    assert runtime.rank_error_line(str(tmp_path), 0) is None
    assert capsys.readouterr().err == ""
    runtime.say_stop_line("digitgan: error: y", {"RANK": "1", "WORLD_SIZE": "2"})  # torchrun: rank 0 speaks for all
    assert capsys.readouterr().err == ""
    runtime.say_stop_line("digitgan: error: z", {})
    assert capsys.readouterr().err == "digitgan: error: z\n"


def test_bf16_units_are_read_from_the_cpu_flags():
    flags = "processor\t: 0\nflags\t\t: fpu sse2 avx2 {}\nbugs\t\t: none\n"
    assert runtime.cpu_has_bf16(flags.format("avx512f avx512_bf16")) is True
    assert runtime.cpu_has_bf16(flags.format("amx_tile amx_bf16")) is True
    assert runtime.cpu_has_bf16(flags.format("avx512f")) is False
    assert runtime.cpu_has_bf16("no flags line here") is None
    assert runtime.cpu_has_bf16() in (True, False, None)
