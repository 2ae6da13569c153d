"""Where the kind model lives, and building it when it is missing.

The model is a file the hub builds itself from examples (never a download):
``continuum triage retrain`` writes it, and triage builds it from the shipped
examples on first use when no file is there.  A process keeps the model it
loaded, so a run pays for loading once.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from threading import Lock

from continuum.nlp.classifier import Example, KindModel, fingerprint
from continuum.nlp.examples import shipped_training

log = logging.getLogger(__name__)

_loaded: dict[Path, tuple[float, KindModel]] = {}
_lock = Lock()


def default_model_path(data_dir: Path) -> Path:
    return data_dir / "models" / "kind.joblib"


def shared_cache() -> Path | None:
    """A folder shared by processes (tests, Airflow workers) for models built from the shipped examples only."""
    configured = os.environ.get("CONTINUUM_MODEL_CACHE")
    return Path(configured) if configured else None


def build(examples: list[Example], path: Path) -> KindModel:
    model = KindModel.train(examples)
    model.save(path)
    return model


def kind_model(path: Path) -> KindModel:
    """The model at ``path``; built from the shipped examples (and saved there) when there is none."""
    with _lock:
        mtime = path.stat().st_mtime if path.exists() else None
        cached = _loaded.get(path)
        if cached is not None and mtime is not None and cached[0] == mtime:
            return cached[1]
        if mtime is None:
            model = _from_shipped(path)
        else:
            model = KindModel.load(path)
            if KindModel.saved_by_joblib(path):
                _resave(model, path)
        _loaded[path] = (path.stat().st_mtime, model)
        return model


def _resave(model: KindModel, path: Path) -> None:
    """Rewrite a model of an earlier version in today's container: the next process loads it 30x faster."""
    try:
        model.save(path)
    except OSError as exc:  # a read-only model folder: it keeps working, only slower to load
        log.info("kind model %s stays in the earlier, slower container: %s", path, exc)


def _from_shipped(path: Path) -> KindModel:
    examples = shipped_training()
    cache = shared_cache()
    if cache is not None:
        cached = cache / f"kind-{fingerprint(examples)}.joblib"
        if cached.exists():
            model = KindModel.load(cached)
            model.save(path)
            return model
    log.info("triage: building the kind model from %d shipped examples into %s", len(examples), path)
    model = build(examples, path)
    if cache is not None:
        model.save(cache / f"kind-{model.built_from}.joblib")
    return model
