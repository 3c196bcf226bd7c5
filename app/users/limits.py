"""The app's own rate limits on the account flows."""

from core.platform.ratelimit import AccountLimiter, FailedAttemptLimiter, RateLimiter, by_ip

FAILED_LOGINS = FailedAttemptLimiter(
    name="login", account_setting="login_account", ip_setting="login_ip"
)
"""Failed logins: RATE_LIMIT_LOGIN_ACCOUNT per account and RATE_LIMIT_LOGIN_IP per client IP."""

REGISTRATIONS = RateLimiter(setting="register_ip", name="register", key=by_ip, auth=True)
"""Registrations: RATE_LIMIT_REGISTER_IP per client IP."""

MAIL_SENDS = AccountLimiter(name="email", account_setting="email_address", ip_setting="email_ip")
"""Every request that may send mail: RATE_LIMIT_EMAIL_ADDRESS per address (whether or not it
belongs to an account) and RATE_LIMIT_EMAIL_IP per client IP."""
