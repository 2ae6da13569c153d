"""MkDocs hooks: the parts of the site that come from the code, made at build time.

- the Connectors section of the navigation lists every page in ``docs/connectors/`` (so a new connector's
  page appears without editing ``mkdocs.yml``);
- each registered connector's page gets its generated reference (``sitegen.connectors``), and a registered
  connector without a page is a warning, which ``mkdocs build --strict`` turns into a failed build;
- ``<!-- continuum:schema KIND -->`` in a page becomes that config format's reference (``sitegen.schemas``);
- ``<!-- continuum:connectors -->`` becomes the table of every registered connector.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # MkDocs loads hooks by path: make `sitegen` importable

from sitegen import connectors, schemas

log = logging.getLogger("mkdocs.hooks.continuum")  # under "mkdocs": its warnings count for --strict

NAV_SECTION = "Connectors"
SCHEMA_MARKER = re.compile(r"<!--\s*continuum:schema\s+([a-z]+)\s*-->")
_PAGE = re.compile(r"^connectors/([a-z0-9_-]+)\.md$")


def connector_pages(docs_dir: Path) -> list[str]:
    """``connectors/*.md`` on disk: the overview first, then each connector's page by name."""
    folder = docs_dir / "connectors"
    names = sorted(p.name for p in folder.glob("*.md") if p.name != "index.md") if folder.is_dir() else []
    return [*(["connectors/index.md"] if (folder / "index.md").is_file() else []), *(f"connectors/{n}" for n in names)]


def expand_nav(nav: list[Any], pages: list[str]) -> list[Any]:
    """The nav with its ``Connectors`` entry (a page or a list) replaced by every connector page."""
    expanded: list[Any] = []
    for item in nav:
        if isinstance(item, dict) and NAV_SECTION in item:
            expanded.append({NAV_SECTION: list(pages)})
        else:
            expanded.append(item)
    return expanded


def missing_pages(registered: list[str], src_uris: set[str]) -> list[str]:
    return [name for name in registered if f"connectors/{name}.md" not in src_uris]


def render_page(markdown: str, src_uri: str, registered: dict[str, Any]) -> str:
    """A page's markdown with every generated part filled in."""
    def schema(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind not in schemas.KINDS:
            log.warning("%s: unknown schema %r (known: %s)", src_uri, kind, ", ".join(schemas.KINDS))
            return match.group(0)
        return schemas.render(kind)

    markdown = SCHEMA_MARKER.sub(schema, markdown)
    if connectors.INDEX_MARKER in markdown:
        markdown = markdown.replace(connectors.INDEX_MARKER, connectors.index_table(registered, registered))
    page = _PAGE.match(src_uri)
    if page and page.group(1) in registered:
        generated = connectors.section(page.group(1), registered[page.group(1)])
        if connectors.MARKER in markdown:
            return markdown.replace(connectors.MARKER, generated)
        return f"{markdown.rstrip()}\n\n{generated}\n"
    return markdown


def on_config(config: Any) -> Any:
    config["nav"] = expand_nav(config["nav"] or [], connector_pages(Path(config["docs_dir"])))
    return config


def on_files(files: Any, config: Any) -> Any:
    src_uris = {f.src_uri for f in files}
    for name in missing_pages(list(connectors.plugins()), src_uris):
        log.warning("connector %r is registered but has no page: write docs/connectors/%s.md "
                    "(the five sections of the other connector pages)", name, name)
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return render_page(markdown, page.file.src_uri, connectors.plugins())
