"""How often an address can be sent invitations, each overridable from the environment."""

from core.platform.ratelimit import AccountLimiter, Rate, RateLimits, RateSetting


class InvitationLimits(RateLimits):
    """RATE_LIMIT_INVITATION_ADDRESS, RATE_LIMIT_INVITATION_IP."""

    invitation_address: RateSetting = Rate.parse("5/1h")
    invitation_ip: RateSetting = Rate.parse("60/1h")


INVITATION_SENDS = AccountLimiter(
    name="invitation",
    account_rate=InvitationLimits.rate(lambda limits: limits.invitation_address),
    ip_rate=InvitationLimits.rate(lambda limits: limits.invitation_ip),
)
"""Every invitation email, first or resent: per invited address (whether or not it has an
account) and per client IP."""
