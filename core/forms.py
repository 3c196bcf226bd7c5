"""Form bodies whose text fields PostgreSQL can store."""

from typing import Annotated

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm

from core.fields import Text

SECRET = {"format": "password"}


class PasswordForm(OAuth2PasswordRequestForm):
    """OAuth2's password form (RFC 6749 §4.3), the same fields, where text with a NUL character
    is a 422 naming the field instead of a database error on the username lookup.

    Depend on `password_form`, which declares the fields, not on the class: FastAPI runs a
    class dependency's `__init__` on a worker thread, and that hop costs a login more than
    parsing the form does.
    """


async def password_form(
    *,
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    username: Annotated[Text, Form()],
    password: Annotated[Text, Form(json_schema_extra=SECRET)],
    scope: Annotated[Text, Form()] = "",
    client_id: Annotated[Text | None, Form()] = None,
    client_secret: Annotated[Text | None, Form(json_schema_extra=SECRET)] = None,
) -> PasswordForm:
    """The `PasswordForm` of the request, built on the event loop:
    `form: Annotated[PasswordForm, Depends(password_form)]`."""
    return PasswordForm(
        grant_type=grant_type,
        username=username,
        password=password,
        scope=scope,
        client_id=client_id,
        client_secret=client_secret,
    )
