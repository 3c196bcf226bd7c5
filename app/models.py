"""Every model of the app, imported so Alembic sees the whole metadata."""

from app.messenger.models import Message, Thread, ThreadEvent, ThreadParticipant
from app.users.api_keys import ApiKey
from app.users.identities import UserIdentity
from app.users.models import AuthSession, EmailToken, RefreshToken, User
from app.users.sso import SsoTicket
from core.platform.jobs.models import FailedJob
from core.platform.requestlog import RequestLog

__all__ = [
    "ApiKey",
    "AuthSession",
    "EmailToken",
    "FailedJob",
    "Message",
    "RefreshToken",
    "RequestLog",
    "SsoTicket",
    "Thread",
    "ThreadEvent",
    "ThreadParticipant",
    "User",
    "UserIdentity",
]
