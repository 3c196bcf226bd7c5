"""Every model of the app, imported so Alembic sees the whole metadata."""

from app.messenger.models import Message, Thread, ThreadEvent, ThreadParticipant
from app.users.models import AuthSession, EmailToken, RefreshToken, User
from core.platform.jobs.models import FailedJob
from core.platform.requestlog import RequestLog

__all__ = [
    "AuthSession",
    "EmailToken",
    "FailedJob",
    "Message",
    "RefreshToken",
    "RequestLog",
    "Thread",
    "ThreadEvent",
    "ThreadParticipant",
    "User",
]
