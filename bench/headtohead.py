"""Figure 5: read the same N Jira issues with our connector and with singer-io tap-jira.

Both read from ONE Jira simulator in the same run, over HTTPS (the tap
insists on it), and the simulator counts both clients' calls.  tap-jira reads
REST v2 (``/rest/api/2/search/jql``, which Jira Cloud still serves), so the
simulator runs with its v2 endpoints (``connectors/jira/simdc.py``, Cloud
mode); ours reads v3 as in production.  Ours runs in process; the tap runs as
a process, so its interpreter start-up is reported separately.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pydantic import SecretStr

from bench.common import Timer, emit, sized_main
from bench.tapjira import TapUnavailable, install, startup_s, sync_issues
from bench.tls import TlsServer, make_certificate
from connectors.jira.config import JiraConfig
from connectors.jira.connector import JiraConnector
from connectors.jira.simdc import JiraV2Simulator
from connectors.jira.simmodel import SIM_LOGIN, SIM_PROJECT, SIM_TOKEN

DEFAULT_SIZE = 500
FULL_SIZE = 10_000


def seed(sim: JiraV2Simulator, size: int) -> None:
    """N issues like the hub makes them; every tenth has a staff answer."""
    for n in range(size):
        issue = sim.add_staff_issue(f"Customer request {n}: export the monthly report as CSV",
                                    description=f"Asked by customer {n % 97} on the forum. " * 3,
                                    labels=["continuum", "customer-request"])
        if n % 10 == 0:
            sim.add_staff_comment(issue, f"Thanks, planned for release {n % 7}.")


def ours(sim: JiraV2Simulator, url: str) -> dict[str, float]:
    config = JiraConfig(url=url, login=SIM_LOGIN, api_token=SecretStr(SIM_TOKEN), project=SIM_PROJECT,
                        page_size=100)  # the largest page Jira Cloud serves with full fields
    before = sim.effect_counts()["calls"]
    timer = Timer()
    issues = sum(1 for page in JiraConnector(config).read_changes("issues", None)
                 for record in page.records if record.object_type == "issue")
    return {"wall_s": timer.seconds, "records": issues, "calls": sim.effect_counts()["calls"] - before}


def run(size: int, workdir: Path) -> None:
    cert, key = make_certificate(workdir)
    try:
        venv: Path | None = install(workdir, cert)  # before REQUESTS_CA_BUNDLE is set: pip honours it too
        problem = ""
    except (TapUnavailable, OSError, subprocess.SubprocessError) as exc:
        venv, problem = None, str(exc)
    sim = JiraV2Simulator(mode="cloud")
    sim.record_exchanges = False
    seed(sim, size)
    server = TlsServer(sim, cert, key)
    os.environ["REQUESTS_CA_BUNDLE"] = str(cert)  # our requests sessions honour it; nothing else is touched
    try:
        mine = ours(sim, server.url)
        try:
            if venv is None:
                raise TapUnavailable(problem)
            start_s = startup_s(venv)
            before = sim.effect_counts()["calls"]
            theirs = sync_issues(venv, server.host, SIM_LOGIN, SIM_TOKEN, workdir)
            theirs["calls"] = sim.effect_counts()["calls"] - before
        except (TapUnavailable, OSError, subprocess.SubprocessError) as exc:
            emit("head_to_head_tap_jira", size, {"ours_wall_s": round(mine["wall_s"], 3),
                                                 "ours_calls": mine["calls"], "ratio_vs_tap_jira": None},
                 unavailable=f"tap-jira: {exc}")
            return
        emit("head_to_head_tap_jira", size, {
            "ours_wall_s": round(mine["wall_s"], 3),
            "tap_jira_wall_s": round(theirs["wall_s"], 3),
            "tap_jira_startup_s": round(start_s, 3),
            "ours_calls": mine["calls"],
            "tap_jira_calls": theirs["calls"],
            "ours_ms_per_issue": round(1000 * mine["wall_s"] / max(size, 1), 3),
            "tap_jira_ms_per_issue": round(1000 * theirs["wall_s"] / max(size, 1), 3),
            "ratio_vs_tap_jira": round(theirs["wall_s"] / mine["wall_s"], 2),
            "ratio_vs_tap_jira_without_startup": round((theirs["wall_s"] - start_s) / mine["wall_s"], 2),
            "ours_issues": mine["records"], "tap_jira_issues": theirs["records"],
        }, goal={"ratio_vs_tap_jira": 3, "calls": "ours <= tap_jira"}, peer="singer-io tap-jira 2.6.0 (PyPI)",
            api={"ours": "REST v3 /search/jql, 100 per page",
                 "tap_jira": "REST v2 /search/jql (Cloud), its default page"})
    finally:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
        server.stop()


def main(argv: list[str] | None = None) -> None:
    sized_main(run, __doc__, DEFAULT_SIZE, FULL_SIZE, argv)


if __name__ == "__main__":
    main()
