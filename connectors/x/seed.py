"""Demo data: what four customers say to @acme_app on X, and the company's own post they answer.

Fixed content, no randomness.  Jordan asks for the CSV export the forum asks for too, in a post's words;
Mei reports a bug, Ravi asks how to do something, Elle is all praise, and two of them reply under the
company's launch post, so a thread with the company's voice at its root can be shown.  Elle also asks a
how-to question by direct message (read only with ``direct_messages: true``).
"""

from __future__ import annotations

from connectors.x.simulator import SIM_ACCOUNT, XSimulator

CUSTOMERS = (
    ("jordan_builds", "Jordan Reyes"),
    ("mei_ops", "Mei Chen"),
    ("ravi_k", "Ravi Kumar"),
    ("elle_designs", "Elle Martin"),
)


def seed(sim: XSimulator) -> None:
    for handle, name in CUSTOMERS:
        sim.add_user(handle, name)
    launch = sim.post(SIM_ACCOUNT, "Saved dashboards are live for every plan today. Pin the views you check "
                                   "daily and share them with your team. What should we build next?")
    sim.post("jordan_builds", f"@{SIM_ACCOUNT} any chance I can pull my weekly reports out as a .csv? Pasting "
                              "them into Sheets by hand every Monday is killing me")
    sim.post("jordan_builds", "a CSV download right on the report page, please. My finance team lives in "
                              "spreadsheets", reply_to=launch)
    bug = sim.post("mei_ops", f"@{SIM_ACCOUNT} the mobile app logs me out every time I switch tabs since "
                              "this morning's update. iOS 18, reinstalled twice, still happening")
    sim.post("mei_ops", "screenshot of the error: it says 'session token invalid' right before the login screen",
             reply_to=bug)
    sim.post("ravi_k", f"@{SIM_ACCOUNT} how do I add a second admin to our workspace? I can only find the "
                       "invite-as-member button")
    sim.post("elle_designs", f"Honestly the cleanest dashboard tool I have used. Big thanks to the "
                             f"@{SIM_ACCOUNT} team \U0001f64c")
    sim.post("elle_designs", "love the saved views already, set up three in five minutes", reply_to=launch)
    sim.dm("elle_designs", "Hi! Quick one: how do I change the time zone my saved dashboards use? They show "
                           "UTC but my team is in Lisbon")
