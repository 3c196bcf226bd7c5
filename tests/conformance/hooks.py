"""Schemathesis hooks for the conformance run (loaded through SCHEMATHESIS_HOOKS).

Every request gets the pass's credentials from the environment the test sets: none for the
anonymous pass, else the pass's bearer token. Fresh credentials keep one call from turning the
rest of a pass into 401s:

- operations that end the caller's own session or account (logout, logout-all, deleting or
  changing one's account) are sent with the token of a throwaway user, a new one each time;
- the admin pass calls the root routes with the static root token (AUTH_ROOT_TOKEN);
- admin operations aimed at a user (deactivate, delete, change scopes) that name the pass's
  own user — schemathesis learns real ids from earlier answers — aim at a throwaway user
  instead.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import schemathesis

TOKEN_VARIABLE = "PLINTH_CONFORMANCE_TOKEN"
USER_ID_VARIABLE = "PLINTH_CONFORMANCE_USER_ID"
SPARE_USERS_VARIABLE = "PLINTH_CONFORMANCE_SPARE_USERS"
ROOT_TOKEN_VARIABLE = "PLINTH_CONFORMANCE_ROOT_TOKEN"
ROOT_PREFIX = "/api/v1/root/"
ENDS_THE_CALLER = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/logout-all"),
    ("DELETE", "/api/v1/users/me"),
    ("PATCH", "/api/v1/users/me"),
}
AIMED_AT_A_USER = {
    ("PATCH", "/api/v1/users/{user_id}"),
    ("DELETE", "/api/v1/users/{user_id}"),
    ("PATCH", "/api/v1/users/{user_id}/scopes"),
}


def _spare_users() -> Iterator[tuple[str, str]]:
    """(user id, access token) of throwaway users, one per call; the last one once spent (it
    answers 401 from then on, which is documented)."""
    path = os.environ.get(SPARE_USERS_VARIABLE)
    lines = Path(path).read_text().splitlines() if path else []
    users = [(user_id, token) for user_id, token in (line.split() for line in lines)]
    yield from users
    while True:
        yield users[-1] if users else ("", "")


SPARE = _spare_users()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Put the pass's credentials on the request (never a generated Authorization)."""
    token = os.environ.get(TOKEN_VARIABLE, "")
    operation = (case.method.upper(), case.path)
    if token and operation in ENDS_THE_CALLER:
        token = next(SPARE)[1]
    if case.path.startswith(ROOT_PREFIX) and os.environ.get(ROOT_TOKEN_VARIABLE):
        token = os.environ[ROOT_TOKEN_VARIABLE]
    own_id = os.environ.get(USER_ID_VARIABLE)
    parameters = case.path_parameters
    if operation in AIMED_AT_A_USER and own_id and parameters.get("user_id") == own_id:
        parameters["user_id"] = next(SPARE)[0]
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers
