"""The Jira simulator's demo state: only the project; issues arrive through the hub."""

from __future__ import annotations

from typing import Any

from connectors.jira.simmodel import SIM_PROJECT
from connectors.jira.simulator import JiraSimulator

# A seed file's `jira:` section (`continuum simulate --seed FILE`):
#
#   jira:
#     projects: [PROD]            # project keys (default: PROD)
#     issues:                     # issues staff made by hand, which the hub leaves alone
#       - {project: PROD, summary: Quarterly roadmap, description: ..., labels: [planning]}
SEED_SHAPE = "jira: {projects: [KEY], issues: [{project, summary, description, labels}]}"


def seed(sim: JiraSimulator) -> None:
    sim.create_project(SIM_PROJECT, "Product feedback")


def load(sim: JiraSimulator, data: dict[str, Any]) -> None:
    for key in data.get("projects") or [SIM_PROJECT]:
        sim.create_project(str(key))
    for issue in data.get("issues") or []:
        sim.add_staff_issue(str(issue["summary"]), str(issue.get("description") or ""),
                            [str(label) for label in issue.get("labels") or []],
                            project=str(issue.get("project") or SIM_PROJECT))
