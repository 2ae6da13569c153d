"""Tools shared by every system's simulator: an HTTP server with faults, and contract checks."""

from continuum.simkit.server import Exchange, Fault, FaultPlan, Simulator

__all__ = ["Exchange", "Fault", "FaultPlan", "Simulator"]
