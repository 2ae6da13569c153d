#!/bin/bash
# Runs once, when the PostgreSQL volume is first created: a role and a database for the hub's store,
# next to Airflow's metadata database.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v pw="$CONTINUUM_DB_PASSWORD" <<'SQL'
CREATE ROLE continuum LOGIN PASSWORD :'pw';
CREATE DATABASE continuum OWNER continuum;
SQL
