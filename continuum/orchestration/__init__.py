"""Airflow runs the syncs: DAGs built from the hub config, one stage per task.

Nothing here imports Airflow, SQLAlchemy or a connector at module level: the
DAG file imports :mod:`continuum.orchestration.factory`, which must stay cheap
to parse, and the task callables import the engine only when they run.

- :mod:`.factory` builds one DAG per pipeline from the stage table
  (:mod:`continuum.engine.stages`);
- :mod:`.stages` runs one stage with a fresh :class:`~continuum.engine.context.SyncContext`;
- :mod:`.schedule` reads a pipeline's ``schedule`` (cron, interval, ``after:``);
- :mod:`.pools` names and creates one Airflow pool per external system;
- :mod:`.provider` and :mod:`.hooks` register the connection types.

The demo that runs through ``airflow dags test`` is :mod:`continuum.demo.airflow`.
"""
