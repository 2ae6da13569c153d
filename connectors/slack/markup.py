"""Making customer text inert in Slack's ``mrkdwn``.

Slack gives meaning to exactly three characters in message text and asks
apps to escape exactly those (https://api.slack.com/reference/surfaces/formatting#escaping):
``&`` -> ``&amp;``, ``<`` -> ``&lt;``, ``>`` -> ``&gt;``.  Every control
sequence, the ones that ping or link, is written between ``<`` and ``>``:
``<!channel>``, ``<!here>``, ``<@U123>``, ``<#C123>``, ``<!subteam^S1>``,
``<http://x|y>``, ``<!date^…>``.  With ``<`` and ``>`` escaped none of them can
form, and escaping ``&`` first keeps an ``&lt;`` typed by a customer literal.

Plain ``@channel`` or ``@name`` in text does not notify anyone: the connector
never sends ``link_names`` or ``parse=full``.  ``*bold*``, ``_italic_``,
``~strike~`` and backticks can still change how customer words *look*;
Slack offers no escape for them, and they cannot ping, link or hide text.
A connection that wants none of that posts with ``mrkdwn: false``.
"""

from __future__ import annotations


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
