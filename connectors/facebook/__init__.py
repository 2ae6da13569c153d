"""Facebook Pages as a Continuum channel."""
