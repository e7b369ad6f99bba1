"""Local time's defaults and the clock every service reads.

A user or group that has not chosen a zone or a time gets these; a service is given a
`Clock` (the real one in production, one a test moves by hand) instead of reading the time
itself. The weekly rules' maths still lives in `bot/localtime/schedule.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

# What "now" is for a service: an aware instant in UTC.
Clock = Callable[[], datetime]

# Most of our users are in Italy: the zone until a user or group says otherwise.
DEFAULT_ZONE = "Europe/Rome"
# A reminder's, the weekly review's and a group challenge's local time until one is chosen.
DEFAULT_AT = time(9, 0)
DEFAULT_TIME = DEFAULT_AT.strftime("%H:%M")
