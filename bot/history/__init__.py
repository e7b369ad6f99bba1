"""The user's draft history, a page at a time."""
