"""Local time: users' zones, weekly rules and their next occurrence, quiet hours, weeks,
and the clock with its defaults."""
