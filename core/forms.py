"""Form bodies whose text fields PostgreSQL can store."""

from typing import Annotated

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm

from core.fields import Text

SECRET = {"format": "password"}


class PasswordForm(OAuth2PasswordRequestForm):
    """OAuth2's password form (RFC 6749 §4.3), the same fields, where text with a NUL character
    is a 422 naming the field instead of a database error on the username lookup."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[Text, Form()],
        password: Annotated[Text, Form(json_schema_extra=SECRET)],
        scope: Annotated[Text, Form()] = "",
        client_id: Annotated[Text | None, Form()] = None,
        client_secret: Annotated[Text | None, Form(json_schema_extra=SECRET)] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )
