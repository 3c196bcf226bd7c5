"""Failed second-factor attempts, limited per account and per client IP."""

import uuid

from core.platform.ratelimit import FailedAttemptLimiter, Rate, RateLimits, RateSetting


class TwoFactorLimits(RateLimits):
    """RATE_LIMIT_TOTP_ACCOUNT, RATE_LIMIT_TOTP_IP."""

    # Ten wrong codes, then one more every six minutes (Auth0's numbers): a guesser with the
    # password needs months for a 6-digit code, and the owner's right code is always refunded.
    totp_account: RateSetting = Rate.parse("10/1h")
    totp_ip: RateSetting = Rate.parse("30/15m")


FAILED_CODES = FailedAttemptLimiter(
    name="totp",
    account_rate=TwoFactorLimits.rate(lambda limits: limits.totp_account),
    ip_rate=TwoFactorLimits.rate(lambda limits: limits.totp_ip),
)
"""Every check of a code (sign-in's second step, confirm, disable, new recovery codes): a wrong
one is charged to the account and the client IP, a right one is given back."""


def account_of(user_id: uuid.UUID) -> str:
    """The limiter's account name for a user."""
    return f"user:{user_id}"
