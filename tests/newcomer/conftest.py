"""A newcomer's own config folder, outside the repository, and the CLI as they run it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import airflow.sdk.log  # noqa: F401  Airflow sets up logging on import: before CliRunner swaps the streams
import pytest
from typer.testing import CliRunner, Result

from continuum.cli import app
from continuum.mapping import mappings_dir

runner = CliRunner()


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env=env, catch_exceptions=True)


@pytest.fixture
def own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the shipped config folder, as a user starts their own; CONTINUUM_CONFIG points at it."""
    folder = tmp_path / "my-hub"
    folder.mkdir()
    for path in mappings_dir().glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    monkeypatch.delenv("CONTINUUM_MAPPINGS_DIR", raising=False)
    monkeypatch.setenv("CONTINUUM_CONFIG", str(folder / "continuum.yaml"))
    monkeypatch.setenv("CONTINUUM_DATA_DIR", str(tmp_path / "data"))
    yield folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


# The end-to-end loop (simulators on loopback, a fresh store): see tests/e2e/conftest.py.
from tests.e2e.conftest import Loop, loop  # noqa: E402, F401
