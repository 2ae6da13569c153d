"""Continuum's view inside the Airflow UI: pages served by Airflow's own API server (see view_plugin)."""
