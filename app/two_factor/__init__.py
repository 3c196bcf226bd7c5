"""Two-factor sign-in with TOTP (RFC 6238) and single-use recovery codes.

1. Enrolment: `POST /users/me/2fa/enrol` (current password) stores a new secret, encrypted,
   and answers it once with its `otpauth://` provisioning URI; `POST /users/me/2fa/confirm`
   with a first code from the authenticator turns the factor on and answers ten recovery codes,
   once (only their SHA-256 is kept).
2. Sign-in: a password login (or an SSO exchange) of such an account answers 401
   `mfa-required` with a short-lived, single-use `mfa_token`; `POST /auth/2fa/verify` with the
   token and a code (or a recovery code) opens the session.
3. A code is accepted once: its time step must be later than the last one used. Failures are
   limited per account and per client IP (`limits.py`).
4. `AUTH_TOTP_REQUIRED_SCOPES` keeps the listed scopes out of the tokens of accounts without
   the factor: they sign in with their other scopes and enrol from that session.
"""
