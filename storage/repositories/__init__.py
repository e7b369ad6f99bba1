"""Repositories: typed statements over one session, one module per aggregate. They never commit.

The names are re-exported here: users, drafts, posts (with their results), profiles,
rewrites, updates (the webhook's ledger), nudges, groups.
"""

from __future__ import annotations

from storage.repositories.drafts import DraftRepository as DraftRepository
from storage.repositories.groups import GroupRepository as GroupRepository
from storage.repositories.nudges import NudgeRepository as NudgeRepository
from storage.repositories.posts import PostRepository as PostRepository
from storage.repositories.profiles import ProfileRepository as ProfileRepository
from storage.repositories.rewrites import RewriteRepository as RewriteRepository
from storage.repositories.updates import UpdateRepository as UpdateRepository
from storage.repositories.users import SeenUser as SeenUser
from storage.repositories.users import UserRepository as UserRepository
