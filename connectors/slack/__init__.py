"""Slack: notify a person or a team channel.  Import from the modules; this package imports nothing."""
