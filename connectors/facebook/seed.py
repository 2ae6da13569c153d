"""Demo data: the "Acme App" Page, its own posts, and customers commenting, posting and writing in Messenger.

Fixed content, no randomness.  Grace asks for CSV export (the request Discourse customers make, in her own
words), Lukas reports a crash, Priya asks how to do something, Diego is all praise; the Page answers once.
"""

from __future__ import annotations

from connectors.facebook.simulator import FacebookSimulator

CUSTOMERS = (("Grace Mwangi", "grace.mwangi@savannah-analytics.co.ke"), ("Lukas Weber", "lukas.weber@brandt-gmbh.de"),
             ("Priya Nair", "priya.nair@kochi-textiles.in"), ("Diego Alvarez", None))


def seed(sim: FacebookSimulator) -> None:
    for name, email in CUSTOMERS:
        sim.add_customer(name, email)
    launch = sim.page_post("The new Acme App dashboard is live! Tell us what you would like us to build next.")
    grace = sim.comment(launch, "Looks great. What I'm really missing is a way to pull my reports out as CSV files, "
                                "so our finance team can open them in Excel without retyping numbers.", "Grace Mwangi")
    sim.comment(grace, "Thanks Grace, we have passed this on to the product team.")
    sim.comment(grace, "Same wish here: a CSV download of the monthly report would save me an hour every week.",
                "Lukas Weber")
    sim.comment(launch, "Honestly the nicest update you have shipped this year. Great work, team!", "Diego Alvarez")
    maintenance = sim.page_post("Heads-up: short scheduled maintenance tonight from 22:00 to 23:00 UTC.")
    sim.comment(maintenance, "Not maintenance related, but since this morning the Android app (4.2.1) closes "
                             "itself every time I open the Reports tab. Reinstalling did not help.", "Lukas Weber")
    sim.page_post("How do I give a colleague admin rights in our workspace? I looked through Settings and "
                  "could not find where to add a second admin.", author="Priya Nair")
    sim.message_from("Priya Nair", "Hi! Can I change the billing e-mail address on our account myself, "
                                   "or do I need to ask you?")
    sim.message_from("Diego Alvarez", "Just wanted to say your support chat sorted my problem in five minutes. "
                                      "Thank you!")
