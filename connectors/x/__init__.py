"""X (Twitter) as a Continuum channel."""
