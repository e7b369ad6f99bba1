"""Read models: queries that aggregate in the database, reached through the unit of work.

Repositories load and stage rows for use cases that change them; the classes here only read,
and hand back small frozen values (counts, sums, summaries), so a service never loops over
rows to total them. They never commit, and never write. One module per read model: stats,
history, user_data (which rows are about a user), groups; the names are re-exported here.
"""

from __future__ import annotations

from storage.queries.groups import GroupActivityQueries as GroupActivityQueries
from storage.queries.groups import RevisionQueries as RevisionQueries
from storage.queries.history import DraftSummary as DraftSummary
from storage.queries.history import HistoryQueries as HistoryQueries
from storage.queries.stats import PlatformTotals as PlatformTotals
from storage.queries.stats import StatsQueries as StatsQueries
from storage.queries.stats import WeekTotals as WeekTotals
from storage.queries.user_data import ScopedReference as ScopedReference
from storage.queries.user_data import ScopedTable as ScopedTable
from storage.queries.user_data import UserDataQueries as UserDataQueries
from storage.queries.user_data import UserScope as UserScope
from storage.queries.user_data import user_scope as user_scope
