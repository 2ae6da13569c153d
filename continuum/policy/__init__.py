"""Policy: what the people who run the hub decide, as pure functions and validated models (no I/O).

- :mod:`.rules`: triage and routing rules and how they decide;
- :mod:`.rulebook`: the rule book file's model (rules, SLA, aggregation, alerts);
- :mod:`.sla`: business-hours calendars and due times;
- :mod:`.similarity`: whether two feature requests are the same one;
- :mod:`.overrides`: a person's decision, which wins over the rules.

Loading the files is :mod:`continuum.config`'s job; acting on a decision is the engine's.
"""
