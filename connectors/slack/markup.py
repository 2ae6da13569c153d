"""Making customer text inert in Slack's ``mrkdwn``.

Slack gives meaning to three characters and asks apps to escape exactly those
(https://api.slack.com/reference/surfaces/formatting#escaping).  Every sequence that pings or
links sits between ``<`` and ``>`` (``<!channel>``, ``<@U123>``, ``<http://x|y>``), so none can
form once they are escaped; ``&`` goes first so a typed ``&lt;`` stays literal.  Plain
``@channel`` notifies no one: the connector never sends ``link_names`` or ``parse=full``.
``*bold*`` can still style customer words (Slack has no escape for it); ``mrkdwn: false`` stops that.
"""

from __future__ import annotations


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
