"""Sentence embeddings for feature requests, loaded offline.

The default model is WordLlama's ``l2_supercat`` (MIT): 256-dimensional
static token embeddings whose weights and tokenizer ship inside the
``wordllama`` wheel, run with numpy alone (no deep-learning framework), a
fraction of a millisecond per request.  A sentence-transformers model (e.g.
all-MiniLM-L6-v2) is the optional alternative, loaded from a folder the rule
book names; it needs the ``sentence-transformers`` extra, and is never
downloaded by the hub.

Vectors are unit length, so a dot product is a cosine.  A request's vector
mixes its title's and its body's (the title says what is asked), see
:func:`embed_requests`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

# Part of every model id: change it when what is embedded changes (text preparation, title mix),
# so that vectors cached by an older version are not mixed with new ones.
PREPARATION = "v1"


class EmbeddingError(RuntimeError):
    """The configured model cannot be loaded (missing package, missing folder)."""


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed(self, texts: list[str]) -> Vectors:
        """One unit-length row per text (a zero row for an empty text)."""
        ...


def _unit(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: Vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0).astype(np.float32)
    return unit


class WordLlamaEmbedder:
    """WordLlama with the weights and tokenizer of its own wheel: no file is fetched, ever."""

    def __init__(self, config: str = "l2_supercat", dim: int = 256) -> None:
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        try:
            import wordllama
            from wordllama import WordLlama
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise EmbeddingError("the `wordllama` package is not installed") from exc
        finally:
            # wordllama calls logging.basicConfig() on import; the hub's logging is not its to set.
            root.handlers[:] = handlers
            root.setLevel(level)
        package = Path(wordllama.__file__).resolve().parent
        # Looking in the package folder as the "cache" finds the shipped tokenizer (its own lookup misses
        # it: tokenizer/ vs tokenizers/); disable_download makes a missing file an error, not a download.
        try:
            self._model = WordLlama.load(config, cache_dir=package, dim=dim, disable_download=True)
        except FileNotFoundError as exc:
            raise EmbeddingError(f"wordllama's packaged {config} model is incomplete: {exc}") from exc
        self.model_id = f"wordllama:{config}:{dim}"
        self.dim = dim

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # An empty string has no tokens (a 0/0 mean); embed a space and zero it below.
        safe = [t if t.strip() else " " for t in texts]
        vectors = np.asarray(self._model.embed(safe, norm=False, batch_size=256), dtype=np.float32)
        vectors = np.nan_to_num(vectors)
        vectors[[i for i, t in enumerate(texts) if not t.strip()]] = 0.0
        return _unit(vectors)


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder (optional extra; the hub never downloads it)."""

    def __init__(self, path: str) -> None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise EmbeddingError(f"semantic.model_path {path!r} is not a folder holding a sentence-transformers "
                                 "model")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingError("semantic.model sentence-transformers needs the extra: "
                                 "pip install 'continuum-hub[sentence-transformers]'") from exc
        # local_files_only: a folder needs no hub, and the hub is never asked for a missing file.
        self._model: Any = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.model_id = f"st:{folder.name}:{self.dim}"

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=False)
        return _unit(np.asarray(vectors, dtype=np.float32))


@lru_cache(maxsize=4)
def load_embedder(model: str = "wordllama", path: str | None = None) -> Embedder:
    """The model, loaded once per process (about 0.2 s for the default)."""
    if model == "wordllama":
        return WordLlamaEmbedder()
    if model == "sentence-transformers":
        if not path:
            raise EmbeddingError("semantic.model sentence-transformers needs semantic.model_path")
        return SentenceTransformerEmbedder(path)
    raise EmbeddingError(f"unknown embedding model {model!r}")


def model_key(embedder: Embedder, title_weight: float) -> str:
    """The id under which a request's vectors are cached: the model and how its text was prepared."""
    return f"{embedder.model_id}:{PREPARATION}:t{title_weight:g}"


def text_hash(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\x00{body}".encode("utf-8", "surrogatepass")).hexdigest()


def embed_requests(embedder: Embedder, requests: Sequence[tuple[str, str]], title_weight: float) -> Vectors:
    """One vector per (title, body), in one batch: ``title_weight`` of the title's, the rest the body's.

    A request without a title (a chat message) or without a body is its other part alone.
    """
    if not requests:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    titles = embedder.embed([t for t, _ in requests])
    bodies = embedder.embed([b for _, b in requests])
    has_title = np.array([bool(t.strip()) for t, _ in requests])[:, None]
    has_body = np.array([bool(b.strip()) for _, b in requests])[:, None]
    weight = np.where(has_title & has_body, title_weight, np.where(has_title, 1.0, 0.0)).astype(np.float32)
    return _unit(weight * titles + (1 - weight) * bodies)


def to_bytes(vector: Vectors) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> Vectors:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)
