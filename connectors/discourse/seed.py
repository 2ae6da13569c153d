"""Demo data: a small product community with questions, bugs, ideas and chatter.

Fixed content, no randomness, so every demo and test sees the same forum.
Several customers ask for the same features in their own words (dark mode,
CSV export, SSO/SAML, a mobile app, webhooks) so that grouping can be shown,
and one post carries hostile markup from other systems to exercise escaping.
"""

from __future__ import annotations

from typing import Any

from connectors.discourse.simulator import SIM_API_USERNAME, DiscourseSimulator

STAFF = SIM_API_USERNAME  # the company's own account answers in a few threads

CUSTOMERS = (
    ("mara.lindqvist", "Mara Lindqvist", "mara.lindqvist@nordhavn.se"),
    ("tkowalski", "Tomasz Kowalski", "t.kowalski@brightlane.pl"),
    ("priya_r", "Priya Raghunathan", "priya@quillworks.in"),
    ("jbaptiste", "Jean-Baptiste Morel", "jb.morel@atelier-morel.fr"),
    ("hana.sato", "Hana Sato", "hana.sato@kumo-labs.jp"),
    ("deshawn", "DeShawn Carter", "deshawn.carter@fieldnote.io"),
    ("olu_adeyemi", "Oluwaseun Adeyemi", "seun@paystack-partners.ng"),
    ("lucia.fernandez", "Lucía Fernández", "lucia.fernandez@mercadoverde.es"),
    ("greta_h", "Greta Hoffmann", "greta.hoffmann@kraftwerk-it.de"),
    ("samir.haddad", "Samir Haddad", "samir@cedarbyte.lb"),
    ("emily.w", "Emily Watson", "emily.watson@harbourdental.co.uk"),
    ("rafael.costa", "Rafael Costa", "rafael@costa-contabil.com.br"),
    ("annika_b", "Annika Berg", "annika.berg@fjordtech.no"),
    ("kwame.m", "Kwame Mensah", "kwame.mensah@goldcoastlogistics.gh"),
    ("sofia.rossi", "Sofia Rossi", "sofia.rossi@trattoria-digitale.it"),
    ("noah.kim", "Noah Kim", "noah.kim@lumenfinch.com"),
    ("ingrid.v", "Ingrid Vos", "ingrid@tulpdata.nl"),
    ("mateo_g", "Mateo García", None),  # some people never share an e-mail address
)

# (author, category, title, first post, [(replier, text, reply_to_post_number)])
TOPICS: tuple[tuple[str, str, str, str, tuple[tuple[str, str, int | None], ...]], ...] = (
    ("mara.lindqvist", "feature-requests", "Dark mode please!",
     "I work late most evenings and the bright white dashboard is painful. Could we get a dark theme?",
     (("annika_b", "+1 from Oslo, our winters are long and dark :sweat_smile:", 1),
      (STAFF, "Thanks Mara, noted. We will post here when there is news.", 1))),
    ("hana.sato", "feature-requests", "Night theme for the web app",
     "Is there any way to switch the colours to something darker? My eyes hurt after a few hours.", ()),
    ("deshawn", "feature-requests", "Option to invert colours / low-light UI",
     "Our support team works night shifts. A low-light interface would really help them.", ()),
    ("tkowalski", "feature-requests", "Export reports to CSV",
     "We need to get the monthly report into Excel. Copy-paste breaks the columns. A CSV export button?",
     (("greta_h", "Same here. Our controller asks for a spreadsheet every month.", 1),)),
    ("lucia.fernandez", "feature-requests", "Download data as spreadsheet",
     "Is it possible to download the contacts list as a spreadsheet (xlsx or csv, either is fine)?", ()),
    ("rafael.costa", "feature-requests", "Bulk export of all records",
     "For our accountant we need a full export of all invoices, ideally comma-separated.", ()),
    ("greta_h", "feature-requests", "SAML single sign-on",
     "Our IT policy requires SSO through our identity provider (SAML 2.0). Is this on the roadmap?",
     (("ingrid.v", "We use Azure AD and would love this as well.", 1),)),
    ("samir.haddad", "feature-requests", "Login with Okta / SSO",
     "Managing separate passwords for 40 people is a pain. Any plans for Okta integration?", ()),
    ("noah.kim", "feature-requests", "Enterprise SSO support",
     "We cannot roll this out company-wide without single sign-on. Google Workspace SSO would be enough.", ()),
    ("kwame.m", "feature-requests", "Mobile app for drivers",
     "Our drivers are on the road all day. A phone app (Android first, please) would be a game changer.", ()),
    ("sofia.rossi", "feature-requests", "iPhone app?",
     "Is there an iOS app? The mobile website is okay but a native app would be faster.",
     (("emily.w", "Would love this too, for checking appointments on the go.", 1),)),
    ("priya_r", "feature-requests", "Webhooks when a record changes",
     "We want to trigger our own automation when a record is updated. Do you support webhooks?", ()),
    ("olu_adeyemi", "feature-requests", "Push events to our endpoint",
     "Could the app call a URL of ours whenever a payment status changes? Polling the API is wasteful.", ()),
    ("ingrid.v", "feature-requests", "Keyboard shortcuts",
     "Power users would love shortcuts for the common actions, like j/k to move through lists.", ()),
    ("emily.w", "support", "How do I reset a colleague's password?",
     "A colleague is locked out and the reset e-mail never arrives. What can I do as an admin?",
     ((STAFF, "Hi Emily, as an admin you can send a new invite from Settings > Team. "
                    "Please also check the spam folder.", 1),
      ("emily.w", "That worked, thank you!", 2))),
    ("jbaptiste", "support", "Changing the invoice currency",
     "We moved from EUR to CHF for some customers. Can one account use two currencies?", ()),
    ("annika_b", "support", "API rate limits?",
     "What are the API rate limits? We sync about 20k records a night and hit 429s sometimes.",
     (("tkowalski", "We batch ours and sleep on Retry-After, works fine.", 1),)),
    ("mateo_g", "support", "Importing contacts from another CRM",
     "What is the best way to move 5,000 contacts from our old CRM? Is there an importer?", ()),
    ("rafael.costa", "support", "Two-factor authentication setup",
     "Where do I enable 2FA for my account? I cannot find it in the profile page.", ()),
    ("lucia.fernandez", "support", "Can I change my username?",
     "I signed up with a typo in my username. Is there a way to fix it?", ()),
    ("noah.kim", "support", "Timezone of scheduled reports",
     "Scheduled reports arrive at 3am for us. Which timezone do they use and can we change it?", ()),
    ("deshawn", "bugs", "Search returns nothing for names with accents",
     "Searching for \"Fernández\" finds nothing, but \"Fernandez\" does. Looks like accents break search.",
     (("lucia.fernandez", "Can confirm, my own name is unfindable :disappointed:", 1),)),
    ("tkowalski", "bugs", "Dashboard chart shows wrong month",
     "Since Monday the revenue chart labels March as February. Data looks right, labels are off by one.", ()),
    ("samir.haddad", "bugs", "Arabic text displayed backwards in PDF",
     "Right-to-left text in exported PDFs comes out reversed: \u0645\u0631\u062d\u0628\u0627 becomes "
     "\u0627\u0628\u062d\u0631\u0645. The screen view is fine.", ()),
    ("hana.sato", "bugs", "Upload fails for files over 10 MB",
     "Uploading a 12 MB PDF gives a spinning wheel forever. Smaller files work.", ()),
    ("kwame.m", "bugs", "Session expires every 5 minutes",
     "Since yesterday I am logged out every few minutes. Chrome 126 on Windows.",
     (("olu_adeyemi", "Same on Firefox. Clearing cookies did not help.", 1),
      (STAFF, "Thanks both, we found the cause and a fix is rolling out today.", None))),
    ("priya_r", "bugs", "Copying from Jira breaks formatting",
     "When I paste a ticket description from our tracker, odd markup shows up. Example below:\n\n"
     "<script>alert(1)</script> {code}x{code} [~accountid:557058:abc] {color:red}x{color}\n"
     "<ac:structured-macro ac:name=\"html\"> and some hidden stuff: a\u200bb\u200dc \u202eevil\u202c done "
     "\U0001f525\U0001f469\u200d\U0001f4bb @everyone #general", ()),
    ("sofia.rossi", "lounge", "Just wanted to say thanks",
     "The new calendar view saved my team hours this week. Grazie mille! \U0001f389", ()),
    ("mara.lindqvist", "lounge", "What are you all using this for?",
     "Curious how others use the product. We run our whole customer onboarding on it.",
     (("noah.kim", "Sales pipeline and support, all in one place.", 1),
      ("jbaptiste", "We manage our workshop bookings. Works great.", 1),
      ("hana.sato", "Event registrations here \U0001f338", None))),
    ("olu_adeyemi", "lounge", "Meetup in Lagos?",
     "Anyone from the community in Lagos? Would be fun to meet for coffee.", ()),
    ("greta_h", "lounge", "Fantastic support experience",
     "Had a billing question, got a clear answer in ten minutes. Rare these days. Thank you!", ()),
    ("annika_b", "lounge", "Favourite new feature of the year?",
     "Mine is the saved filters. What is yours?",
     (("ingrid.v", "Bulk edit, no contest.", 1),)),
    ("mateo_g", "uncategorized", "Hola from Valencia",
     "New here, looking forward to learning from everyone.", ()),
    ("olu_adeyemi", "support", "Are you hiring?",
     "Are you hiring support engineers in Lagos? I would love to apply; where do I send my CV?", ()),
    ("samir.haddad", "support", "Pricing for 300 seats",
     "We are rolling out to 300 seats next quarter. Can we talk pricing for the enterprise plan?", ()),
)


def seed(sim: DiscourseSimulator) -> None:
    """Fill an empty simulator with the community above (users, topics, replies)."""
    for username, name, email in CUSTOMERS:
        sim.add_user(username, name, email)
    for author, category, title, raw, replies in TOPICS:
        topic_id, _ = sim.create_topic(author, category, title, raw)
        for replier, text, reply_to in replies:
            sim.reply(replier, topic_id, text, reply_to)


# One's own conversations for `continuum simulate --seed FILE` (the file's `discourse:` section):
#
#   discourse:
#     users:                      # optional: authors of the topics get an account anyway
#       - {username: ann, name: Ann Lee, email: ann@example.com}
#     topics:
#       - author: ann             # a username; the hub's own account is "continuum"
#         category: bugs          # uncategorized, feature-requests, support, bugs or lounge
#         title: Export crashes
#         raw: The CSV export crashes on files over 10 MB.
#         replies:
#           - {author: bob, raw: Same here., reply_to: 1}   # reply_to: the post number answered
SEED_SHAPE = "discourse: {users: [{username, name, email}], topics: [{author, category, title, raw, replies: " \
             "[{author, raw, reply_to}]}]}"


def load(sim: DiscourseSimulator, data: dict[str, Any]) -> None:
    """Fill an empty simulator with the conversations of a seed file's ``discourse:`` section."""
    known = {u.username.lower() for u in sim.users.values()}

    def user(name: str, full: str | None = None, email: str | None = None) -> None:
        if name.lower() not in known:
            sim.add_user(name, full or name, email)
            known.add(name.lower())

    for entry in data.get("users") or []:
        user(str(entry["username"]), entry.get("name"), entry.get("email"))
    for topic in data.get("topics") or []:
        user(str(topic["author"]))
        topic_id, _ = sim.create_topic(str(topic["author"]), str(topic.get("category") or "uncategorized"),
                                       str(topic["title"]), str(topic["raw"]))
        for reply in topic.get("replies") or []:
            user(str(reply["author"]))
            sim.reply(str(reply["author"]), topic_id, str(reply["raw"]), reply.get("reply_to"))
