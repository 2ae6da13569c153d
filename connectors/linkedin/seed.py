"""The demo story on LinkedIn: Acme App's page posts, four members comment on it, and one mentions the page in a
post of her own."""

from __future__ import annotations

from typing import Any

from connectors.linkedin.plugin import SIM_ORGANIZATION as ORGANIZATION
from connectors.linkedin.simulator import LinkedInSimulator

CUSTOMERS = (("amara-osei-41", "Amara Osei"), ("henrik-larsen-7", "Henrik Larsen"),
             ("sofia-marin-22", "Sofia Marin"), ("kenji-watanabe-9", "Kenji Watanabe"))
MENTIONER = ("ines-duarte-3", "Ines Duarte")


def seed(sim: LinkedInSimulator) -> None:
    """Two posts by the page; the customers' comments ask for CSV export, report a bug, ask how-to, praise; Ines
    asks for CSV export too, in her own post that mentions the page (read with ``mentions: true``)."""
    amara, henrik, sofia, kenji = (sim.add_person(pid, name) for pid, name in CUSTOMERS)
    launch = sim.add_post("Our spring release is live: shared dashboards, faster search and a new mobile "
                          "layout. What should we build next? Tell us in the comments.")
    ask = sim.add_comment(amara, launch, "Lovely release! What my finance team really misses is getting the "
                                         "reports out as CSV files, so we can open them in a spreadsheet.")
    sim.add_comment(henrik, launch, "Since the update the shared dashboard shows a blank page in Safari 17. "
                                    "Chrome works fine. Anyone else?")
    sim.add_comment(sofia, launch, "How do I invite a colleague to a shared dashboard without giving them "
                                   "admin rights?")
    sim.add_comment(kenji, ask, "+1, a CSV download of the monthly report would save me an hour each month.")
    tips = sim.add_post("Five tips for a tidier pipeline, from our customer success team.")
    sim.add_comment(kenji, tips, "Tip 3 changed how our whole sales team works. You folks rock!")
    ines = sim.add_person(*MENTIONER)
    sim.add_post(f"Our team moved its reporting to @[Acme App]({ORGANIZATION}) this quarter and loves "
                 "it. One wish: a CSV export of the reports, so finance can open them in a spreadsheet.", author=ines)


# One's own conversations for `continuum simulate --seed FILE` (the file's `linkedin:` section):
#
#   linkedin:
#     people: [{id: ann-lee-1, name: Ann Lee}]     # members: urn:li:person:<id>
#     posts:                                       # by the page, urn:li:organization:1001
#       - text: We shipped dark mode.
#         comments:
#           - {author: ann-lee-1, text: Finally!, replies: [{author: ann-lee-1, text: Thanks}]}
#     mentions:                                    # members' own posts that mention the page
#       - {author: ann-lee-1, text: Loving dark mode in Acme App}
SEED_SHAPE = ("linkedin: {people: [{id, name}], posts: [{text, comments: [{author, text, replies: [{author, text}]}]}],"
              " mentions: [{author, text}]}")


def load(sim: LinkedInSimulator, data: dict[str, Any]) -> None:
    """Fill an empty simulator with the conversations of a seed file's ``linkedin:`` section."""
    for person in data.get("people") or []:
        sim.add_person(str(person["id"]), str(person.get("name") or person["id"]))
    for post in data.get("posts") or []:
        urn = sim.add_post(str(post["text"]))
        for comment in post.get("comments") or []:
            made = sim.add_comment(f"urn:li:person:{comment['author']}", urn, str(comment["text"]))
            for reply in comment.get("replies") or []:
                sim.add_comment(f"urn:li:person:{reply['author']}", made, str(reply["text"]))
    for mention in data.get("mentions") or []:  # the page is mentioned at the start, as LinkedIn's composer does
        sim.add_post(f"@[{sim.people[ORGANIZATION]}]({ORGANIZATION}) {mention['text']}",
                     author=f"urn:li:person:{mention['author']}")
