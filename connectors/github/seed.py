"""The GitHub simulator's demo state: a few issues staff filed by hand, which the hub leaves alone."""

from __future__ import annotations

from typing import Any

from connectors.github.simulator import GithubSimulator

# A seed file's `github:` section (`continuum simulate --seed FILE`):
#
#   github:
#     issues:                     # issues staff filed by hand
#       - {title: Release 2.4 checklist, body: ..., labels: [release]}
SEED_SHAPE = "github: {issues: [{title, body, labels}]}"


def seed(sim: GithubSimulator) -> None:
    sim.add_staff_issue("Release 2.4 checklist", "Docs, changelog, tag.", ["release"])


def load(sim: GithubSimulator, data: dict[str, Any]) -> None:
    for issue in data.get("issues") or []:
        sim.add_staff_issue(str(issue["title"]), str(issue.get("body") or ""),
                            [str(label) for label in issue.get("labels") or []])
