"""postcoach: a Telegram bot that coaches professionals on what they post."""
