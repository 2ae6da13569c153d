"""Airflow DAGs for Continuum: one per pipeline in the hub config (continuum.yaml).

Thin on purpose: continuum.orchestration.factory builds the DAGs; this file
only puts them where Airflow's DAG processor looks.
"""

from continuum.orchestration.factory import build_dags

globals().update(build_dags())
