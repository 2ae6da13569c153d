"""Declarative field mappings: load, validate and apply ``mappings/*.yaml``."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from continuum.mapping.render import MappingError, map_inbound, map_outbound
from continuum.mapping.spec import FieldSpec, MappingFile
from continuum.mapping.yamlfile import ConfigError, validate_file

__all__ = [
    "ConfigError",
    "FieldSpec",
    "MappingError",
    "MappingFile",
    "load_mapping",
    "map_inbound",
    "map_outbound",
    "mappings_dir",
]


def mappings_dir() -> Path:
    """Where mapping files are read: ``CONTINUUM_MAPPINGS_DIR`` or the shipped ``mappings/``."""
    configured = os.environ.get("CONTINUUM_MAPPINGS_DIR")
    if configured:
        return Path(configured)
    import mappings  # the shipped folder; a namespace package holding only YAML

    return Path(next(iter(mappings.__path__)))


@functools.lru_cache(maxsize=64)
def _load(path: Path, mtime: float) -> MappingFile:  # mtime is part of the cache key: an edited file reloads
    return validate_file(MappingFile, path)


def load_mapping(name: str, base: Path | None = None, named_by: str = "") -> MappingFile:
    """Load ``name`` (a file name in ``base``, by default the mappings folder, or an absolute path) and
    validate it.  Never looked up in the working directory: a sync must not depend on where it runs."""
    path = Path(name)
    if not path.is_absolute():
        path = (base or mappings_dir()) / name
    if not path.is_file():
        raise ConfigError([f"{path}: mapping file not found{f' (named by {named_by})' if named_by else ''}"])
    return _load(path.resolve(), path.stat().st_mtime)
