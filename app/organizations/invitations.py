"""Invitation links: the token, the email that carries it, and the job that sends it.

The token is never stored, queued or logged: it is an HMAC (under AUTH_SECRET_KEY) of the
invitation's id and its `sends` count, and the row keeps only its SHA-256. The request stores
that hash and enqueues `send_invitation` with the id and count; the job rebuilds the token and
sends it only if the row still expects exactly that one, so a resend (the count + 1) or a
revocation makes an older link — or a late job — worthless.
"""

import base64
import hmac
import uuid
from datetime import timedelta
from pathlib import Path

from app.organizations.models import Invitation, Organization
from app.users.models import User
from app.users.tokens import secret_hash
from configs import Settings
from core.db import utcnow
from core.platform.jobs import JobContext, JobRegistry
from core.platform.mail import Mailer
from core.service import unit_of_work

INVITATION_LIFETIME = timedelta(days=7)
"""How long an invitation link works (a resend starts it again)."""
ACCEPT_PATH = "/invitations/accept"
"""The front end's page behind the link (`?token=`); it posts the token to
POST /api/v1/invitations/accept once the invitee is signed in."""

mailer = Mailer(Path(__file__).parent / "templates" / "email", job="organizations.send_email")
jobs = JobRegistry()


def invitation_token(secret: str, invitation_id: uuid.UUID, sends: int) -> str:
    """The token of the `sends`-th link of an invitation: 43 URL-safe characters."""
    message = b"plinth-invitation:" + invitation_id.bytes + sends.to_bytes(4, "big")
    digest = hmac.new(secret.encode(), message, "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(secret: str, invitation_id: uuid.UUID, sends: int) -> str:
    """What the row stores for that token."""
    return secret_hash(invitation_token(secret, invitation_id, sends))


def accept_link(settings: Settings, token: str) -> str:
    return f"{settings.email_base_url}{ACCEPT_PATH}?token={token}"


@jobs.job("organizations.send_invitation")
async def send_invitation(ctx: JobContext, *, invitation_id: str, sends: int) -> None:
    """Email the `sends`-th link of the invitation, if it is still open and still expects it."""
    secret = ctx.settings.secret_key
    token = invitation_token(secret, uuid.UUID(invitation_id), sends)
    async with unit_of_work(ctx.database) as session:
        invitation = await session.get(Invitation, uuid.UUID(invitation_id))
        if invitation is None or invitation.token_hash != secret_hash(token):
            return  # superseded by a resend, or gone
        if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= utcnow():
            return
        organization = await session.get(Organization, invitation.organization_id)
        inviter = (
            await session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
        )
        if organization is None or organization.deleted:
            return
        context = {
            "organization": organization.name,
            "role": invitation.role.value,
            "inviter": (inviter.full_name or inviter.email) if inviter else None,
            "email": invitation.email,
            "link": accept_link(ctx.settings, token),
            "days": INVITATION_LIFETIME.days,
        }
    await mailer.deliver(ctx, to=invitation.email, template="invitation", context=context)
