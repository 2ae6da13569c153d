"""The sync engine: read, triage, plan, apply, read back. It never names a system."""
