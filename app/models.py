"""Every model of the app, imported so Alembic sees the whole metadata (the optional domains',
such as the messenger example, are imported through app/domains.py)."""

from app.api_keys.models import ApiKey
from app.domains import wirings
from app.organizations.models import Invitation, Membership, Organization
from app.sso.models import SsoTicket, UserIdentity
from app.two_factor.models import RecoveryCode, SignInChallenge, TotpCredential
from app.users.models import AuthSession, EmailToken, RefreshToken, User
from core.audit import AuditEntry
from core.files import StoredFile
from core.platform.jobs.models import FailedJob
from core.platform.realtime.models import RealtimeEvent, RealtimeStream
from core.platform.requestlog import RequestLog

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuthSession",
    "EmailToken",
    "FailedJob",
    "Invitation",
    "Membership",
    "Organization",
    "RealtimeEvent",
    "RealtimeStream",
    "RecoveryCode",
    "RefreshToken",
    "RequestLog",
    "SignInChallenge",
    "SsoTicket",
    "StoredFile",
    "TotpCredential",
    "User",
    "UserIdentity",
]

wirings()  # maps the optional domains' models too
