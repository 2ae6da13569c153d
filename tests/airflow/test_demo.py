"""`make demo` through real Airflow: the same story and the same summary as the in-process demo."""

from __future__ import annotations

from continuum.demo.airflow import run_demo as run_through_airflow
from continuum.demo.story import run_demo as run_in_process


def test_the_demo_through_airflow_dags_test_ends_where_the_in_process_demo_ends() -> None:
    timings: dict[str, float] = {}
    airflow_summary = run_through_airflow(timings=timings)
    reference = run_in_process()
    assert set(airflow_summary) == set(reference)
    assert airflow_summary["rerun_effects"] == 0
    assert airflow_summary["staff_answers"] == reference["staff_answers"] > 0
    assert airflow_summary["features_shipped"] == reference["features_shipped"]
    effects = {s: {k: v for k, v in e.items() if k != "calls"} for s, e in airflow_summary["effects"].items()}
    assert effects == {s: {k: v for k, v in e.items() if k != "calls"} for s, e in reference["effects"].items()}
    for key in ("customers", "interactions", "by_status", "links", "outbox_pending", "outbox_dead", "dead_letters"):
        assert airflow_summary[key] == reference[key], key
    assert timings["dag_runs"] == 4  # sync, sync after the staff answers, two idempotent re-runs
    print(f"\nAirflow demo: db migrate {timings['airflow_db_migrate_s']} s, 4 DAG runs {timings['dag_test_s']} s")
