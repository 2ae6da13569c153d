"""Mastodon as a Continuum channel."""
