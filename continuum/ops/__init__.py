"""Operator actions: what a person does to the hub beyond a sync.

- :mod:`.customers`: merge, split, suggest, tier, import, and one customer's timeline;
- :mod:`.replay`: list dead letters and run them again after a fix;
- :mod:`.plan`: a dry run of the next sync, with the reasons behind each decision.

The CLI (:mod:`continuum.cli`) puts a command on each.
"""
