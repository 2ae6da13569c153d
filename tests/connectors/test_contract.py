"""The shared contract suite, once for every connector in the registry."""

from __future__ import annotations

from continuum.kit.registry import plugins
from continuum.testing.contract import contract_for

for _name in plugins():
    globals()[contract_for(_name).__name__] = contract_for(_name)
