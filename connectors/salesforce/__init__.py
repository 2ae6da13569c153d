"""Salesforce: contacts and leads in, interactions logged as Tasks, tracker work as Cases."""
