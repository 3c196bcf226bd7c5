"""The password policy, checked before any hashing so an overlong password is a cheap 422."""

from configs import get_settings


def check_password_policy(password: str) -> str:
    """Between AUTH_PASSWORD_MIN_LENGTH and AUTH_PASSWORD_MAX_LENGTH characters (8..128)."""
    auth = get_settings().auth
    if len(password) < auth.password_min_length:
        raise ValueError(f"Password must be at least {auth.password_min_length} characters.")
    if len(password) > auth.password_max_length:
        raise ValueError(f"Password must be at most {auth.password_max_length} characters.")
    return password
