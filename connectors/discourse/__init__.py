"""Discourse: read forum topics and posts, answer them as the company's account (see ``plugin``)."""
