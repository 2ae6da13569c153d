"""The sync engine: the stages of the loop. It never names a system and builds no SQL.

- :mod:`.stages` lists the stages once; :mod:`.run` runs them in this process
  (Airflow runs them as tasks, see :mod:`continuum.orchestration`);
- one module per stage: :mod:`.read` (listen), :mod:`.triage` (rules decide,
  effects are planned), :mod:`.aggregate` (one feature request, many votes),
  :mod:`.apply` (the outbox, applied exactly once), :mod:`.readback` (ticket
  changes, staff answers), :mod:`.answers` (replies and shipped notices),
  :mod:`.sla_watch` (breaches);
- :mod:`.outbound` plans every effect rendered from a mapping;
- helpers: :mod:`.context` (what a run needs), :mod:`.facts` (what rules test),
  :mod:`.identity` (who the author is), :mod:`.overrides` (a person's decision kept).
"""
