"""Reddit as a Continuum channel."""
