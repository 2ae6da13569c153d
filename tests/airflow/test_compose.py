"""The production-shaped deployment, checked without a Docker engine: services, images, health, connections."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from continuum.config import load_config
from continuum.orchestration.pools import pool_name

DOCKER = Path(__file__).resolve().parents[2] / "docker"
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker-1", "airflow-worker-2"}


def compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yaml").read_text())


def test_the_services_of_a_celery_deployment_each_with_a_health_check() -> None:
    services = compose()["services"]
    assert AIRFLOW_SERVICES | {"postgres", "redis", "airflow-init"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in AIRFLOW_SERVICES | {"postgres", "redis"}:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in AIRFLOW_SERVICES | {"airflow-init"}:
        service = services[name]
        assert service["image"] == services["airflow-apiserver"]["image"]
        assert service["build"]["dockerfile"] == "docker/Dockerfile"
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert "AIRFLOW__API_AUTH__JWT_SECRET" in env and "CONTINUUM_DB_URL" in env
    workers = [services[f"airflow-worker-{n}"]["command"] for n in (1, 2)]
    assert all(w.startswith("celery worker") for w in workers) and workers[0] != workers[1]
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["simulators"]["profiles"] == ["demo"]


def test_the_init_service_migrates_and_creates_the_pools_and_the_connections_the_dags_use() -> None:
    hub = load_config()
    init = compose()["services"]["airflow-init"]
    script = "\n".join(init["command"])
    assert "airflow db migrate" in script and "continuum migrate" in script and "ensure_pools" in script
    used = {system.connection for system in hub.systems.values()}
    loop = re.search(r"for conn_id in ([\w ]+); do", script)
    assert loop and set(loop.group(1).split()) == used
    assert {f"AIRFLOW_CONN_{conn.upper()}" for conn in used} <= set(init["environment"])
    slots = init["environment"]["CONTINUUM_POOL_SLOTS"]
    assert {s for s in hub.systems} <= set(re.findall(r"(\w+)=\d+", slots))
    assert {pool_name(s) for s in hub.systems}  # one pool per system, created by ensure_pools


def test_the_image_is_the_official_airflow_3_python_3_11_image_with_our_package_and_dag_file() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    version = re.search(r"ARG AIRFLOW_VERSION=(\S+)", dockerfile)
    assert version and version.group(1).startswith("3.")
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}-python3\.11$", dockerfile, re.M)
    assert "/opt/continuum[postgres]" in dockerfile
    assert "COPY --chown=airflow:root dags/ /opt/airflow/dags/" in dockerfile
    constraints = (DOCKER.parent / "constraints.txt").read_text()
    assert f"apache-airflow=={version.group(1)}" in constraints


def test_no_secret_is_written_into_the_compose_file() -> None:
    text = (DOCKER / "docker-compose.yaml").read_text()
    for name in ("FERNET_KEY", "JWT_SECRET", "SECRET_KEY", "POSTGRES_PASSWORD", "CONTINUUM_DB_PASSWORD"):
        for value in re.findall(rf"{name}: (\S+)", text):
            assert value.startswith("${"), f"{name} is set to a literal in docker-compose.yaml"


def test_the_webhook_receiver_is_a_service_on_the_same_image_and_store() -> None:
    services = compose()["services"]
    receiver = services["continuum-receiver"]
    assert receiver["image"] == services["airflow-apiserver"]["image"]
    assert receiver["entrypoint"] == "continuum" and receiver["command"][0] == "serve"
    assert "0.0.0.0" in receiver["command"] and "/healthz" in " ".join(receiver["healthcheck"]["test"])
    assert receiver["environment"]["CONTINUUM_DB_URL"] == services["airflow-triggerer"]["environment"][
        "CONTINUUM_DB_URL"]  # the triggerer's watcher reads the inbox the receiver writes
    assert receiver["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
