"""The offline demo: seeded simulators, the whole loop, then re-runs that must change nothing.

- :mod:`.simulators` starts the configured systems' simulators (also for
  ``continuum simulate``, the tests and the benchmarks);
- :mod:`.story` plays the demo's story in this process (``continuum demo --in-process``);
- :mod:`.airflow` plays it through real Airflow (``continuum demo``);
- :mod:`.summary` prints what happened, for people.
"""
