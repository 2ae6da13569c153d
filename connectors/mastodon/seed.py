"""Demo data: the company's own post with customers' comments, and what customers say to the company.

Fixed content, no randomness.  Nora asks for the CSV export (in her own words: the same request the
Discourse customers make), Tomás reports a bug and follows up in the thread, Aiko asks a how-to question
in a direct message, Ben is banter.
"""

from __future__ import annotations

from connectors.mastodon.simulator import MastodonSimulator

COMPANY = "acme"
CUSTOMERS = (
    ("nora", "fosstodon.example", "Nora Berg"),
    ("tomas", None, "Tomás Silva"),  # on the company's own server: his acct has no domain
    ("aiko", "hachyderm.example", "Aiko Tanaka"),
    ("ben", "social.example", "Ben Okafor"),
)


def seed(sim: MastodonSimulator) -> None:
    for username, domain, name in CUSTOMERS:
        sim.add_account(username, name, domain)
    launch = sim.post(COMPANY, "Scheduled reports are live in Acme 4.2: pick a day and the report lands in your "
                               "inbox. What should we build next? #acme")
    sim.post("nora@fosstodon.example", "@acme Nice one! What I'm missing is a way to get my reports out as CSV "
                                       "files, so I can open them in a spreadsheet and do my own sums.", launch)
    sim.post("ben@social.example", "@acme you folks are on a roll this month, the release notes made my morning 🎉",
             launch)
    bug = sim.post("tomas", "@acme since this morning's update the weekly chart counts every order twice: "
                            "the totals on the dashboard are doubled.")
    answer = sim.post(COMPANY, "@tomas thanks for telling us, we are looking into it now.", bug,
                      application="Web")
    sim.post("tomas", "@acme it shows the same on Firefox and Chrome, if that helps.", answer)
    sim.post("aiko@hachyderm.example", "@acme since I upgraded the Python SDK to 2.3.0, client.reports.export() "
                                       "fails with KeyError: 'rows' whenever a report is empty. 2.2 was fine.")
    sim.post("aiko@hachyderm.example", "@acme how do I invite a teammate to my workspace without making them "
                                       "an admin?", visibility="direct")
