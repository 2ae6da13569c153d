"""Shared plumbing for the benchmarks: JSON output, stores, a generated source.

Every benchmark prints one JSON object per line with at least ``benchmark``,
``size`` and ``figures`` (name → number, units in the name).  A figure that
cannot be measured here is reported with ``"unavailable": "<reason>"`` and no
invented number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from continuum.config import HubConfig, load_config
from continuum.connector import JSON, Capabilities, Effect, EffectResult, Page, SourceRecord
from continuum.store.db import make_engine, migrate

PG_ADMIN_URL = os.environ.get("CONTINUUM_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def emit(benchmark: str, size: int, figures: dict[str, float | int | None], **extra: Any) -> JSON:
    """Print one result line (flushed: a parent process reads it as it comes)."""
    line = {"benchmark": benchmark, "size": size, "figures": figures, **extra}
    print(json.dumps(line, sort_keys=False), flush=True)
    return line


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the peak of this whole process, which is why
    # the memory benchmark runs each size in a fresh process.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


# -- stores ----------------------------------------------------------------------

def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return None
    except Exception as exc:  # any failure means "not here", with the reason
        return f"PostgreSQL not reachable ({type(exc).__name__})"
    finally:
        engine.dispose()


@contextmanager
def store(kind: str, workdir: Path) -> Iterator[Engine]:
    """A fresh, migrated store: a SQLite file in ``workdir`` or a throwaway PostgreSQL database."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}")
        migrate(engine)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"continuum_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- a generated source ------------------------------------------------------------

CATEGORIES = ("feature-requests", "bugs", "support", "lounge")


def discourse_post(n: int, authors: int) -> JSON:
    """A Discourse-shaped post (as the connector hands it over) so the shipped mapping applies."""
    topic = n // 4 + 1
    number = n % 4 + 1
    author = n * 7919 % authors
    category = CATEGORIES[topic % len(CATEGORIES)]
    stamp = f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00.000Z"
    return {
        "id": n + 1, "topic_id": topic, "post_number": number, "topic_title": f"Topic {topic}: export and themes",
        "raw": f"Post {n}: could the reports export to CSV? Our team of {n % 50} needs it for month end.",
        "created_at": stamp, "updated_at": stamp, "user_id": 1000 + author, "username": f"user{author}",
        "name": f"User {author}", "reply_to_post_number": None if number == 1 else 1,
        "continuum": {"reply_to_post_number": None if number == 1 else 1, "category_slug": category,
                      "category_name": category, "url": f"https://forum.example/t/{topic}/{number}",
                      "is_topic_opener": number == 1, "body_format": "discourse-markdown"},
    }


@dataclass
class GeneratedForum:
    """A source that makes ``size`` posts on the fly: nothing is held, so memory measures the engine."""

    size: int
    authors: int = 0  # distinct authors; 0 means one per 20 interactions, as in a lively community
    page_size: int = 50
    system: str = "discourse"
    account: str | None = "community-bot"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(("posts",), ("reply",), {}))

    def __post_init__(self) -> None:
        self.authors = self.authors or max(10, self.size // 20)

    def check(self) -> None:
        return None

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        start = int((cursor or {}).get("last", 0))
        for first in range(start, self.size, self.page_size):
            last = min(first + self.page_size, self.size)
            records = [SourceRecord("posts", "post", str(n + 1), discourse_post(n, self.authors),
                                    parent_id=str(n // 4 + 1)) for n in range(first, last)]
            yield Page(records, {"last": last})

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return [EffectResult(e.key, True, f"r-{e.key}", "post") for e in effects]

    def escape_text(self, text: str) -> str:
        return text


@dataclass
class NullTracker:
    """A target that only escapes text: triage plans tickets, nothing is sent."""

    system: str = "jira"
    account: str | None = "continuum-bot@example.com"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(("issues",), ("create",), {"create": 50}))

    def check(self) -> None:
        return None

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        return iter(())

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return [EffectResult(e.key, True, f"T-{i}", "issue") for i, e in enumerate(effects)]

    def escape_text(self, text: str) -> str:
        return text


def shipped_hub() -> HubConfig:
    """The shipped hub config: its mappings and routing rules are what users run."""
    return load_config()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sized_main(run: Callable[[int, Path], None], doc: str | None, default: int, full: int,
               argv: list[str] | None = None) -> None:
    """The command line of a benchmark that runs at one size: ``--size N`` or ``--full``."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--size", type=int)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="continuum-bench-") as tmp:
        run(args.size or (full if args.full else default), Path(tmp))
