"""The HTTP API keeps its published contract: a schema fuzzer (schemathesis, every check) runs against a real
`digitgan serve` and finds nothing; every operation the app has is covered without being listed. README's API
table is the one the schema generates."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from digitgan.pages.server import api_markdown, create_app
from tests.conftest import BIN_DIR, kill_group, run_group

EXAMPLES = 25  # per operation and phase; `schemathesis run` alone defaults to 100 (both pass: README says so)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_schema_fuzzer_finds_no_answer_the_schema_does_not_describe(tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "digitgan", "serve", "--port", str(port), "--threads", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        env = dict(os.environ, SCHEMATHESIS_TELEMETRY="false", NO_COLOR="1")
        result = run_group([str(BIN_DIR / "schemathesis"), "run", f"http://127.0.0.1:{port}/openapi.json",
                            "--checks", "all", "--seed", "0", "--max-examples", str(EXAMPLES), "--workers", "1",
                            "--report-dir", str(tmp_path / "report")], cwd=tmp_path, env=env, timeout=240)
    finally:
        kill_group(server.pid)
        server.wait(timeout=10)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    operations = sum(len(methods) for methods in create_app().openapi()["paths"].values())
    assert "No issues found" in result.stdout and f"{operations} selected / {operations} total" in result.stdout


def test_readme_api_table_is_the_schemas():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert api_markdown(create_app().openapi()) in readme
