"""GitHub Issues: a ticket tracker target."""
