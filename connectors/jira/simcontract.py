"""What the Jira contract checks need to know about Jira's own notation.

Jira serves times as ``2026-11-22T10:00:00.000+0000`` (its own examples in
the description do too), while the description types them as RFC 3339
``date-time``, which needs ``+00:00``.  The simulator stays faithful to Jira;
contract checks rewrite only that offset notation before validating (a test
proves nothing else is hidden by it).
"""

from __future__ import annotations

import dataclasses
import re

from continuum.simkit.server import Exchange

SPEC = "jira-platform-v3.swagger-v3.v3.json"
_JIRA_TIME = re.compile(rb'("\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})([+-]\d{2})(\d{2})"')


def rfc3339_offsets(exchanges: list[Exchange]) -> list[Exchange]:
    return [dataclasses.replace(x, response_body=_JIRA_TIME.sub(rb'\1\2:\3"', x.response_body)) for x in exchanges]
