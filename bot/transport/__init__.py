"""Talking to Telegram: what happens to requests on their way to the Bot API and back."""
