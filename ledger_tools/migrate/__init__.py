"""Migrating legacy registers into the list form."""
