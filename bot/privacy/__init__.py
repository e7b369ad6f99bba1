"""The user's data rights: export and erasure."""
