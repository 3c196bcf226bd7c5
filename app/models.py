"""Every model of the app, imported so Alembic sees the whole metadata."""

from app.api_keys.models import ApiKey
from app.messenger.models import Message, Thread, ThreadParticipant
from app.sso.models import SsoTicket, UserIdentity
from app.users.models import AuthSession, EmailToken, RefreshToken, User
from core.platform.jobs.models import FailedJob
from core.platform.realtime.models import RealtimeEvent, RealtimeStream
from core.platform.requestlog import RequestLog

__all__ = [
    "ApiKey",
    "AuthSession",
    "EmailToken",
    "FailedJob",
    "Message",
    "RealtimeEvent",
    "RealtimeStream",
    "RefreshToken",
    "RequestLog",
    "SsoTicket",
    "Thread",
    "ThreadParticipant",
    "User",
    "UserIdentity",
]
