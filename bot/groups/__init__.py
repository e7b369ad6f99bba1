"""Group and channel coaching: joining, settings, weekly challenges, leaderboards, tips."""
