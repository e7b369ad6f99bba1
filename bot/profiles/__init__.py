"""The user's profile and the dialogue that fills it."""
