"""The CLI's error handling: every-day errors as one line and an exit code (:mod:`continuum.ops.problems`);
``--debug`` (or ``CONTINUUM_DEBUG=1``) shows the traceback instead."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.core import TyperGroup

from continuum.ops.problems import (
    EXIT_CODES,
    EXIT_CONFIG,
    EXIT_CONNECTION,
    EXIT_DEAD_LETTERS,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_RECONCILE,
    EXIT_STORE,
    EXIT_UNREACHABLE,
    SettingError,
    describe,
    scrub,
)

__all__ = ["EXIT_CODES", "EXIT_CONFIG", "EXIT_CONNECTION", "EXIT_DEAD_LETTERS", "EXIT_FAILED", "EXIT_LOCKED",
           "EXIT_OK", "EXIT_RECONCILE", "EXIT_STORE", "EXIT_UNREACHABLE", "CliGroup", "SettingError", "epilog"]


def epilog() -> str:
    lines = "\n\n".join(f"{code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    return f"Exit codes:\n\n{lines}\n\nAdd --debug (or CONTINUUM_DEBUG=1) for the traceback of an error."


def _debug() -> bool:
    return os.environ.get("CONTINUUM_DEBUG", "").strip().lower() in ("1", "true", "yes")


class CliGroup(TyperGroup):
    """The top-level group: turns the every-day exceptions of any command into a :class:`Problem`."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (typer vendors click; its class is private)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own: usage errors, exits
            raise
        except Exception as exc:
            if _debug() or (ctx.obj or {}).get("debug"):
                raise
            problem = describe(exc)
            if problem is None:
                raise
            from continuum.cli.common import console

            for line in problem.lines:
                console.print(f"[{problem.style}]{problem.label}[/{problem.style}] {scrub(line)}", highlight=False,
                              soft_wrap=True, markup=True)
            if problem.code == EXIT_FAILED:
                console.print("run with --debug for the traceback", style="dim", highlight=False)
            raise typer.Exit(problem.code) from None


