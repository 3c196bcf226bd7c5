"""The app's own rate limits on the account flows."""

from core.platform.ratelimit import FailedAttemptLimiter, RateLimiter, by_ip

FAILED_LOGINS = FailedAttemptLimiter(
    name="login", account_setting="login_account", ip_setting="login_ip"
)
"""Failed logins: RATE_LIMIT_LOGIN_ACCOUNT per account and RATE_LIMIT_LOGIN_IP per client IP."""

REGISTRATIONS = RateLimiter(setting="register_ip", name="register", key=by_ip, auth=True)
"""Registrations: RATE_LIMIT_REGISTER_IP per client IP."""
