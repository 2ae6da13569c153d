"""Real-shaped mail (connectors/email/corpus) read as the customer's words, and answers made as mail: parsing,
filters, quote and signature stripping, charsets, and the reply's headers.  No server needed here; the
connector against real IMAP and SMTP servers is tests/connectors/test_email_connector.py."""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.parser import BytesParser

import pytest

from connectors.email import message as mail
from connectors.email.markup import KEY_HEADER, compose, escape_text, html_body, key_header, reply_subject, signed_key
from connectors.email.seed import corpus


def words(name: str) -> str:
    text, _, problem = mail.body_text(mail.parse_bytes(corpus(name)))
    assert problem is None, problem
    return mail.own_words(text)


@pytest.mark.parametrize(("name", "kept", "cut"), [
    ("plain-first.eml", ["never finishes", "Thanks,\nAnn"], ["Finance Lead", "-- "]),
    ("gmail-reply.eml", ["splitting it by month works — but it still takes 90 seconds per month.",
                         "Is a faster export planned?"], ["wrote:", "one month at a time", ">"]),
    ("outlook-reply.eml", ["off by one cent (€9,99 instead of € 10,00)", "Jürgen Müller"],
     ["could you send us the invoice number", "Sent:", "____"]),
    ("outlook-original-message.eml", ["Please add SAML single sign-on", "Priya"],
     ["Original Message", "Google login"]),
    ("apple-mail.eml", ["dark mode for the dashboard too 😊"], ["Sent from my iPhone", "thanks for the suggestion"]),
    ("latin1.eml", ["la facture de décembre est arrivée deux fois"], ["a écrit", "Bonjour François"]),
    ("shift-jis.eml", ["先月の請求書が二重に届きました。", "山田"], []),
])
def test_the_corpus_reads_as_each_customers_own_words(name: str, kept: list[str], cut: list[str]) -> None:
    text = words(name)
    for piece in kept:
        assert piece in text, f"{name}: {piece!r} missing from {text!r}"
    for piece in cut:
        assert piece not in text, f"{name}: {piece!r} left in {text!r}"


def test_an_html_only_body_becomes_safe_text() -> None:
    message = mail.parse_bytes(corpus("html-only.eml"))
    text, from_html, problem = mail.body_text(message)
    assert from_html and problem is None
    assert "charged twice for order #4411 & would like a refund of €49." in text
    assert "Please don't cancel the subscription itself.\nThanks — Chen" in text
    assert not any(s in text for s in ("<", "alert", "font-family", "Contact", "tracker.example"))


@pytest.mark.parametrize(("name", "why"), [
    ("vacation.eml", "auto-submitted (auto-replied)"),
    ("dsn-bounce.eml", "auto-submitted (auto-replied)"),
    ("mailing-list.eml", "precedence list"),
])
def test_mail_that_is_not_a_customer_speaking_says_why(name: str, why: str) -> None:
    message = mail.parse_bytes(corpus(name))
    assert mail.not_a_customer(message, mail.header(message, "Subject")[0]) == why


@pytest.mark.parametrize(("headers", "why"), [
    ("Content-Type: multipart/report; report-type=delivery-status; boundary=x", "report (delivery-status)"),
    ("From: MAILER-DAEMON@mx.example.net", "bounce (mailer-daemon)"),
    ("List-Id: <users.lists.example.org>", "mailing list"),
    ("Precedence: bulk", "precedence bulk"),
    ("X-Autoreply: yes", "auto-reply (X-Autoreply)"),
    ("Subject: Out of Office: back on Monday", "vacation notice (subject)"),
    ("Subject: Automatic reply: your ticket", "vacation notice (subject)"),
])
def test_each_filter_on_its_own(headers: str, why: str) -> None:
    sender = "" if headers.startswith("From:") else "From: a@example.com\r\n"
    message = mail.parse_bytes(f"{sender}{headers}\r\n\r\nbody\r\n".encode())
    assert mail.not_a_customer(message, mail.header(message, "Subject")[0]) == why


@pytest.mark.parametrize("headers", ["Auto-Submitted: no", "Subject: Re: out of office hours support?"])
def test_a_person_is_not_filtered(headers: str) -> None:
    message = mail.parse_bytes(f"From: a@example.com\r\n{headers}\r\n\r\nbody\r\n".encode())
    assert mail.not_a_customer(message, mail.header(message, "Subject")[0]) is None


def test_rfc_2047_headers_in_any_charset_are_decoded() -> None:
    latin = mail.parse_bytes(corpus("latin1.eml"))
    assert mail.header(latin, "Subject") == ("Problème de facturé (décembre)", None)
    assert mail.addresses(latin, "From") == [{"address": "francois@exemple.example", "name": "François Lévesque"}]
    japanese = mail.parse_bytes(corpus("shift-jis.eml"))
    assert mail.header(japanese, "Subject") == ("請求書について", None)
    assert mail.addresses(japanese, "From")[0]["name"] == "山田 太郎"


@pytest.mark.parametrize(("raw", "field", "why"), [
    (corpus("broken-charset.eml"), "body", "bytes not valid utf-8 at offset 14"),
    (b"From: a@example.com\r\nContent-Type: text/plain; charset=x-nonesuch\r\n\r\nhi\r\n", "body",
     "unknown charset 'x-nonesuch'"),
    (b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     b"!!!notbase64\r\n", "body", "broken base64 encoding (InvalidBase64LengthDefect)"),
    (b"From: a@example.com\r\n\r\nna\xefve 8-bit text, no charset: \xff\r\n", "body",
     "8-bit bytes with no usable charset (declared none)"),
])
def test_a_body_that_cannot_be_decoded_is_a_problem_naming_the_field(raw: bytes, field: str, why: str) -> None:
    assert mail.body_text(mail.parse_bytes(raw))[2] == (field, why)


def test_utf8_mislabelled_as_ascii_is_read_as_the_commonest_mislabel() -> None:
    raw = "From: a@example.com\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nGrüße\r\n".encode()
    assert mail.body_text(mail.parse_bytes(raw))[0].strip() == "Grüße"


@pytest.mark.parametrize(("subject", "why"), [
    ("Subject: =?x-nonesuch?q?abc?=", "RFC 2047 word in an unknown charset 'x-nonesuch'"),
    ("Subject: =?utf-8?b?//4gYmFk?=", "bytes that are neither RFC 2047 nor UTF-8"),
])
def test_a_subject_that_cannot_be_decoded_is_a_problem(subject: str, why: str) -> None:
    assert mail.header(mail.parse_bytes(f"{subject}\r\n\r\nx".encode()), "Subject") == ("", why)


def test_raw_8bit_shift_jis_in_a_header_is_a_problem_but_raw_utf8_is_fine() -> None:
    raw_sjis = "Subject: 請求書\r\n\r\nx".encode("shift_jis")
    assert mail.header(mail.parse_bytes(raw_sjis), "Subject")[1] == "bytes that are neither RFC 2047 nor UTF-8"
    literal = mail.parse_bytes("Subject: 請求書 \ufffd\r\n\r\nx".encode())  # a real U+FFFD, sent as UTF-8
    assert mail.header(literal, "Subject") == ("請求書 \ufffd", None)


@pytest.mark.parametrize(("text", "expected"), [
    ("Yes please.\n\nOn Tue, 3 Mar 2026 at 10:00, Acme <s@hub.example> wrote:\n> old", "Yes please."),
    ("Ja.\n\nAm 03.03.2026 um 10:00 schrieb Acme Support <s@hub.example>:\n> alt", "Ja."),
    ("Fine.\n\nFrom: Acme Support\nSent: Monday\nTo: me\nSubject: x\n\nold text", "Fine."),
    ("Fine.\n-----Original Message-----\nFrom: x", "Fine."),
    ("Inline:\n> your question\nmy answer\n-- \nAnn, Example Corp", "Inline:\nmy answer"),
    ("> only quoted text\n> nothing else", "> only quoted text\n> nothing else"),  # nothing left: keep it all
    ("From: the start, I liked it.\nThanks", "From: the start, I liked it.\nThanks"),  # no Sent:/To: after it
])
def test_quoted_history_and_signatures_are_cut(text: str, expected: str) -> None:
    assert mail.own_words(text) == expected


def test_html_quotes_scripts_and_entities() -> None:
    html = ('<div>New <b>text</b> &amp; more<script>evil()</script></div><blockquote type="cite">old</blockquote>'
            '<div class="gmail_quote">On Mon wrote:<div>nested</div>quoted</div><p>after&nbsp;all</p>'
            '<pre>  keep   spacing</pre><div id="divRplyFwdMsg">From: x</div><p>quoted original</p>')
    assert mail.html_to_text(html) == "New text & more\n\nafter all\n\nkeep   spacing"


def test_threading_helpers() -> None:
    assert mail.ids("<a@x> <b@y>\r\n <c@z>") == ["a@x", "b@y", "c@z"]
    assert mail.normalised_subject("Re: AW: Fwd:  CSV   export") == "csv export"
    assert mail.is_reply_subject("RE[2]: x") and not mail.is_reply_subject("Regarding x")
    assert mail.fallback_id(b"same") == mail.fallback_id(b"same") != mail.fallback_id(b"other")
    assert mail.addresses_of("Ann Lee <ann@example.com>, bob@example.org") == ["ann@example.com", "bob@example.org"]
    assert mail.addresses_of("not an address") == [] and mail.addresses_of("") == []


# -- answers ------------------------------------------------------------------------


def test_escape_text_drops_bidi_and_control_characters_and_keeps_the_words() -> None:
    assert escape_text("a\r\nb\u202eevil\x07 <b>x</b>\tz") == "a\nbevil <b>x</b>\tz"


def test_the_html_alternative_shows_exactly_the_characters() -> None:
    body = html_body("<script>x</script> & \"q\"\n\nline\ntwo")
    assert body.endswith(
        "<body><p>&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot;</p><p>line<br>two</p></body></html>")


def test_the_key_header_is_signed_and_a_forged_one_is_not_ours() -> None:
    header = key_header("ck-1", "support@hub.example", "secret")
    assert signed_key(header, "support@hub.example", "secret") == "ck-1"
    assert signed_key(header, "support@hub.example", "other secret") is None
    assert signed_key("ck-1; sig=00000000", "support@hub.example", "secret") is None
    assert signed_key("ck-1", "support@hub.example", "secret") is None


def test_a_reply_threads_and_says_it_is_automatic() -> None:
    made = compose(key="ck-9", sender=Address("Acme Support", addr_spec="support@hub.example"),
                   to="ann@example.com", subject="CSV export\r\nBcc: everyone@example.com", body="Hi Ann",
                   parent="p@x", root="r@x", automatic="auto-replied", secret="s")
    parsed = BytesParser(policy=policy.strict).parsebytes(made.as_bytes())
    assert parsed["Subject"] == "Re: CSV export Bcc: everyone@example.com" and parsed["Bcc"] is None
    assert (parsed["In-Reply-To"], parsed["References"]) == ("<p@x>", "<r@x> <p@x>")
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["Message-ID"].endswith("@hub.example>") and parsed["Message-ID"].startswith("<ck-9.")
    assert signed_key(str(parsed[KEY_HEADER]), "support@hub.example", "s") == "ck-9"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert reply_subject("RE: x") == "RE: x" and reply_subject("") == "Re: Your message"
