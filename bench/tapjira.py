"""singer-io tap-jira, installed from PyPI into a throwaway venv at run time.

Nothing of it is committed or vendored: the benchmark makes a venv in its
temp directory, ``pip install``s the pinned release, and runs the tap as its
users do (``--discover``, select the ``issues`` stream, then sync).  When any
step fails, the caller reports the figure as unavailable with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# The newest release (checked with `pip index versions tap-jira`); it installs and
# runs on Python 3.11 with its own pins (singer-python 6, backoff 2, requests 2.32).
TAP_JIRA = "tap-jira==2.6.0"


class TapUnavailable(RuntimeError):
    """tap-jira could not be installed or run here; the message says why."""


def install(directory: Path, cert: Path) -> Path:
    """Create the venv, install the tap, trust the benchmark's certificate; returns the venv."""
    venv = directory / "tap-jira-venv"
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", TAP_JIRA]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise TapUnavailable(f"{' '.join(step[-2:])} failed: {(done.stderr or done.stdout).strip()[-300:]}")
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import certifi; print(certifi.where())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    # The tap sends prepared requests (Session.send), which ignore REQUESTS_CA_BUNDLE:
    # its own (throwaway) CA bundle is the one place to trust the loopback certificate.
    with open(where, "a", encoding="ascii") as bundle:
        bundle.write("\n" + cert.read_text(encoding="ascii"))
    return venv


def startup_s(venv: Path) -> float:
    """How long the interpreter takes to import the tap: the part of its wall time that is not work."""
    begin = time.perf_counter()
    subprocess.run([str(venv / "bin" / "python"), "-c", "import tap_jira"], check=True, capture_output=True)
    return time.perf_counter() - begin


def sync_issues(venv: Path, host: str, login: str, token: str, workdir: Path) -> dict[str, Any]:
    """Discover, select ``issues`` (every field), sync; returns wall time and records seen."""
    config = workdir / "tap-config.json"
    config.write_text(json.dumps({"start_date": "2000-01-01T00:00:00Z", "username": login, "password": token,
                                  "base_url": host, "user_agent": "continuum-bench"}))
    tap = str(venv / "bin" / "tap-jira")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    discovered = subprocess.run([tap, "--config", str(config), "--discover"], capture_output=True, text=True,
                                env=env, timeout=300)
    if discovered.returncode != 0:
        raise TapUnavailable(f"tap-jira --discover failed: {discovered.stderr.strip()[-300:]}")
    catalog = json.loads(discovered.stdout)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            entry["metadata"]["selected"] = stream["tap_stream_id"] == "issues"
    catalog_path = workdir / "tap-catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    records = 0
    begin = time.perf_counter()
    # tap-jira 2.6.0 reads its catalog from --properties (it ignores --catalog).
    # Its log (one METRIC line per request) goes to a file: a pipe nobody drains would
    # fill up and stall the tap mid-run.
    log_path = workdir / "tap-jira.log"
    with log_path.open("w") as log, subprocess.Popen(
            [tap, "--config", str(config), "--properties", str(catalog_path)], stdout=subprocess.PIPE,
            stderr=log, env=env, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:  # the tap's output is consumed as a target would, line by line
            if line.startswith('{"type": "RECORD"') and '"stream": "issues"' in line[:60]:
                records += 1
        code = process.wait()
    wall = time.perf_counter() - begin
    if code != 0:
        raise TapUnavailable(f"tap-jira sync exited {code}: {log_path.read_text().strip()[-300:]}")
    return {"wall_s": wall, "records": records}
