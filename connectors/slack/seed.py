"""Demo data: a small company workspace with the team channels the hub notifies.

Fixed content, no randomness, so every demo and test sees the same workspace.
"""

from __future__ import annotations

from typing import Any

from connectors.slack.simulator import SlackSimulator

PEOPLE = (
    ("amara.okafor", "Amara Okafor", "amara.okafor@example.com"),  # HR
    ("lena.fischer", "Lena Fischer", "lena.fischer@example.com"),  # support lead
    ("diego.alvarez", "Diego Álvarez", "diego.alvarez@example.com"),  # R&D
)

CHANNELS = (
    # name, private, bot is a member, purpose
    ("general", False, True, "Company-wide announcements."),
    ("hr", False, True, "Questions for People & Culture."),
    ("support", False, True, "Customer support team."),
    ("rnd", False, True, "Research and development."),
    ("sales", False, True, "Leads and pricing questions, routed by Continuum."),
    ("sla-alerts", False, True, "SLA breaches, posted by Continuum."),
    ("leadership", True, False, "Private; the bot is not invited."),
    ("random", False, False, "Chatter; the bot is not invited."),
)

GREETINGS = (
    ("hr", 0, "Welcome to #hr! Ask us anything about leave, payroll and benefits."),
    ("support", 1, "Morning all, queue is at 14 open tickets."),
    ("rnd", 2, "Release 2.4 is branching tomorrow."),
    ("general", 0, "Office is closed on Friday."),
    ("sla-alerts", 1, "This channel gets an alert when a ticket is about to miss its SLA."),
)


def seed(sim: SlackSimulator) -> SlackSimulator:
    people = [sim.add_user(*person) for person in PEOPLE]
    for name, private, member, purpose in CHANNELS:
        sim.add_channel(name, private=private, member=member, general=name == "general", purpose=purpose)
    for channel, who, text in GREETINGS:
        sim.say(channel, people[who], text)
    return sim


# A seed file's `slack:` section (`continuum simulate --seed FILE`); without one, the workspace above:
#
#   slack:
#     people: [{name: amara.okafor, real_name: Amara Okafor, email: amara@example.com}]
#     channels:
#       - {name: hr, private: false, member: true, purpose: People questions}   # member: the bot is in it
SEED_SHAPE = "slack: {people: [{name, real_name, email}], channels: [{name, private, member, purpose}]}"


def load(sim: SlackSimulator, data: dict[str, Any]) -> SlackSimulator:
    for person in data.get("people") or []:
        sim.add_user(str(person["name"]), str(person.get("real_name") or person["name"]), person.get("email"))
    for channel in data.get("channels") or []:
        name = str(channel["name"]).lstrip("#")
        sim.add_channel(name, private=bool(channel.get("private", False)), member=bool(channel.get("member", True)),
                        general=name == "general", purpose=str(channel.get("purpose") or ""))
    return sim
