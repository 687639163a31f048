"""The HTTP API keeps its published contract: a schema fuzzer (schemathesis, every check) runs against a real
`digitgan serve` and finds nothing; every operation the app has is covered without being listed. README's API
table is the one the schema generates.

One allowance, for one operation, in a run of its own: POST /api/hand takes a picture, and no schema can say "a PNG
of a digit", so the fuzzer's schema-valid bodies (random bytes) are answered 422 there; for that path only, the
positive-data check accepts 422 (and 413) and the warning that generated data is mostly refused is not shown. Every
other operation runs with every check and warning."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digitgan.pages.server import api_markdown, create_app
from tests.conftest import BIN_DIR, free_port, kill_group, run_group

EXAMPLES = 25  # per operation and phase; `schemathesis run` alone defaults to 100 (both pass: README says so)
PICTURE_PATH = "/api/hand"
# every warning schemathesis has but validation_mismatch ("generated data mostly refused"), for the picture upload
SHOWN_FOR_PICTURES = ["missing_auth", "missing_test_data", "base_url_mismatch", "missing_deserializer",
                      "unused_openapi_auth", "unsupported_regex", "method_not_allowed", "constants_extraction",
                      "unmatched_filter", "unresolvable_reference", "low_valid_rate", "rate_limited",
                      "dictionary_mismatch", "timeout_units"]


@pytest.mark.slow
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
        (tmp_path / "picture.toml").write_text(
            f"warnings.display = {json.dumps(SHOWN_FOR_PICTURES)}\n\n"
            '[checks.positive_data_acceptance]\nexpected-statuses = ["200", "413", "422"]\n')

        def fuzz(*options: str, config: list[str] = ()) -> subprocess.CompletedProcess:
            return run_group([str(BIN_DIR / "schemathesis"), *config, "run", f"http://127.0.0.1:{port}/openapi.json",
                              *options, "--checks", "all", "--seed", "0", "--max-examples", str(EXAMPLES),
                              "--workers", "1"], cwd=tmp_path, env=env, timeout=240)

        others = fuzz("--exclude-path", PICTURE_PATH)
        pictures = fuzz("--include-path", PICTURE_PATH, config=["--config-file", str(tmp_path / "picture.toml")])
    finally:
        kill_group(server.pid)
        server.wait(timeout=10)
    operations = sum(len(methods) for methods in create_app().openapi()["paths"].values())
    for result, selected in ((others, operations - 1), (pictures, 1)):
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert "No issues found" in result.stdout, result.stdout[-3000:]
        assert f"{selected} selected / {operations} total" in result.stdout


def test_readme_api_table_is_the_schemas():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert api_markdown(create_app().openapi()) in readme
