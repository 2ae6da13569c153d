"""Demo data for Reddit: r/acmeapp, the company's own post with customers' comments, and the inbox.

Fixed content, no randomness.  One customer asks for the CSV export the Discourse customers ask for (in their own
words), one reports a bug, one asks how to do something, one is praise; one mentions u/AcmeOfficial elsewhere
and one writes a private message.
"""

from __future__ import annotations

from connectors.reddit.simulator import SIM_USERNAME, RedditSimulator

COMPANY = SIM_USERNAME
CUSTOMERS = ("pixel_pusher", "datawrangler42", "quiet_kestrel", "mapleleaf_dev")


def seed(sim: RedditSimulator) -> None:
    for name in CUSTOMERS:
        sim.add_user(name)
    launch = sim.submit(COMPANY, "Acme 3.2 is out: faster dashboards and a new sharing menu",
                        "Hi r/acmeapp! Version 3.2 is rolling out today. What should we build next? "
                        "Tell us in the comments.")
    sim.comment("datawrangler42", launch,
                "Honestly the one thing I'm missing: let me pull the report tables out as a .csv file so I can "
                "open them in Excel. Right now I retype the numbers every Friday.")
    sim.comment("pixel_pusher", launch, "Love the new dashboards, they load in half the time. Great job, team!")
    bug = sim.submit("mapleleaf_dev", "Sharing menu crashes on Firefox 124",
                     "Since 3.2, clicking Share on any dashboard in Firefox 124 freezes the tab. Chrome is fine.")
    sim.comment("quiet_kestrel", bug, "Same here on Firefox ESR, the tab hangs for about ten seconds.")
    question = sim.submit("quiet_kestrel", "How do I move a dashboard to another workspace?",
                          "I built a dashboard in my personal workspace and now the team needs it. Is there a "
                          "way to move it without rebuilding it from scratch?")
    sim.comment(COMPANY, question, "Good question! We'll write up the steps shortly.")
    other = sim.submit("mapleleaf_dev", "Tools you use for client reporting?",
                       "Collecting recommendations for reporting tools.", subreddit="smallbusiness")
    sim.comment("pixel_pusher", other, "We use Acme for this, u/AcmeOfficial has been very responsive.")
    sim.message("datawrangler42", COMPANY, "CSV question",
                "Quick follow-up to my comment: is a spreadsheet export on your roadmap at all?")
