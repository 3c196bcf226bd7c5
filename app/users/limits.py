"""The app's own rate limits on the account flows, each overridable from the environment."""

from core.platform.ratelimit import (
    AccountLimiter,
    FailedAttemptLimiter,
    Rate,
    RateLimiter,
    RateLimits,
    RateSetting,
    by_ip,
)


class UserLimits(RateLimits):
    """RATE_LIMIT_<FIELD>, e.g. RATE_LIMIT_LOGIN_ACCOUNT_CLIENT=10/15m."""

    login_account_client: RateSetting = Rate.parse("10/15m")
    login_account: RateSetting = Rate.parse("100/15m")
    login_ip: RateSetting = Rate.parse("30/15m")
    password_check: RateSetting = Rate.parse("10/15m")
    register_ip: RateSetting = Rate.parse("20/1h")
    email_address: RateSetting = Rate.parse("5/1h")
    email_ip: RateSetting = Rate.parse("20/1h")


FAILED_LOGINS = FailedAttemptLimiter(
    name="login",
    account_client_rate=UserLimits.rate(lambda limits: limits.login_account_client),
    account_rate=UserLimits.rate(lambda limits: limits.login_account),
    ip_rate=UserLimits.rate(lambda limits: limits.login_ip),
)
"""Failed logins: RATE_LIMIT_LOGIN_ACCOUNT_CLIENT per account and client IP, RATE_LIMIT_LOGIN_IP
per client IP, and RATE_LIMIT_LOGIN_ACCOUNT per account, a ceiling that does not stop a client
which signed in to the account before (so guesses from elsewhere lock nobody out)."""

PASSWORD_CHECKS = FailedAttemptLimiter(
    name="password-check",
    account_rate=UserLimits.rate(lambda limits: limits.password_check),
    ip_rate=UserLimits.rate(lambda limits: limits.login_ip),
)
"""Wrong `current_password` answers on a signed-in account (profile, password and address
changes): RATE_LIMIT_PASSWORD_CHECK per account (and RATE_LIMIT_LOGIN_IP per client IP); a
right one is given back. The caller is already signed in, so no stranger can spend it."""

REGISTRATIONS = RateLimiter(
    rate=UserLimits.rate(lambda limits: limits.register_ip), name="register", key=by_ip, auth=True
)
"""Registrations: RATE_LIMIT_REGISTER_IP per client IP."""

MAIL_SENDS = AccountLimiter(
    name="email",
    account_rate=UserLimits.rate(lambda limits: limits.email_address),
    ip_rate=UserLimits.rate(lambda limits: limits.email_ip),
)
"""Every request that may send mail: RATE_LIMIT_EMAIL_ADDRESS per address (whether or not it
belongs to an account) and RATE_LIMIT_EMAIL_IP per client IP."""
