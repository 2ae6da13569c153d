"""The ``continuum`` command line (``pyproject.toml`` points its script at :data:`app`)."""

from __future__ import annotations

from continuum.cli.app import app

__all__ = ["app"]
