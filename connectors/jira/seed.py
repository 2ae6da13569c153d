"""The Jira simulator's demo state: only the project; issues arrive through the hub."""

from __future__ import annotations

from connectors.jira.simmodel import SIM_PROJECT
from connectors.jira.simulator import JiraSimulator


def seed(sim: JiraSimulator) -> None:
    sim.create_project(SIM_PROJECT, "Product feedback")
