"""YAML loading that remembers where every key was, so errors can name the line.

Users edit the mapping files and the hub config by hand; an error that says
"mappings/jira.issue.yaml:14: outbound.create.fields.summary: ..." is the
difference between a fix in seconds and a hunt.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


class ConfigError(ValueError):
    """A config or mapping file is wrong; the message names the file, line and field."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def _positions(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> None:
    """Record the line of every key and list item below ``node`` (the caller records ``node``'s own)."""
    if isinstance(node, yaml.MappingNode):
        children = [(key.value if isinstance(key, yaml.ScalarNode) else str(key), key, value)
                    for key, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = [(index, item, item) for index, item in enumerate(node.value)]
    else:
        return
    for part, marker, child in children:
        out[(*loc, part)] = marker.start_mark.line + 1
        _positions(child, (*loc, part), out)


def read_yaml(path: Path) -> tuple[Any, dict[Loc, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError([f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    positions: dict[Loc, int] = {}
    if node is not None:
        positions[()] = node.start_mark.line + 1
        _positions(node, (), positions)
    return data, positions


def line_of(positions: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest known part of ``loc`` (pydantic may add model or union names)."""
    for end in range(len(loc), -1, -1):
        line = positions.get(tuple(loc[:end]))
        if line is not None:
            return line
    return None


def validate_file(model: type[ModelT], path: Path, context: dict[str, Any] | None = None) -> ModelT:
    """Load ``path`` and validate it as ``model``; all problems are reported at once."""
    data, positions = read_yaml(path)
    if data is None:
        raise ConfigError([f"{path}: the file is empty"])
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
            line = line_of(positions, loc)
            field = ".".join(str(part) for part in loc) or "(top level)"
            where = f"{path}:{line}" if line else str(path)
            problems.append(f"{where}: {field}: {error['msg']}")
        raise ConfigError(problems) from None
