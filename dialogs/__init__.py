"""Conversations as data plus small functions: the owner-facing behaviour of the hub."""
