"""Accounts: who is talking to the bot and in which language to answer them."""
