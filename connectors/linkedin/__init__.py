"""LinkedIn as a Continuum channel."""
