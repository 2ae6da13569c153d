"""Jira Cloud (REST v3): see ``plugin.py``; production code imports its modules, never a simulator."""
