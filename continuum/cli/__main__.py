"""``python -m continuum.cli``: the same command as ``continuum``."""

from __future__ import annotations

from continuum.cli import app

app()
