"""Test support for connector authors: the shared contract suite (needs pytest, a test dependency)."""
