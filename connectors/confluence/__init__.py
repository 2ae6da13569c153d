"""Confluence: the customer's history and the feature requests, as pages where staff already read."""
