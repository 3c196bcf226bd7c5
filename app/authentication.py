"""The authenticator core calls on every gated request (`create_application(authenticator=…)`):
an API key (`plk_…`) is checked by its hash, with its owner; anything else is a user's access
token."""

from app.api_keys.authentication import authenticate_api_key
from app.api_keys.keys import is_api_key
from app.users.authentication import authenticate_access_token
from core.db import Database
from core.security import Principal


async def authenticate(database: Database, token: str) -> Principal:
    """The caller `token` stands for; 401 for anything that does not hold up."""
    if is_api_key(token):
        return await authenticate_api_key(database, token)
    return await authenticate_access_token(database, token)
