"""Single sign-on with OpenID Connect: the browser flow, and the provider accounts (identities)
linked to users.

1. `GET /auth/sso/{provider}/authorize?return_to=…` stores a flow (state, nonce, PKCE
   verifier, the allowlisted `return_to`, a hash of a random browser cookie) and redirects to
   the provider.
2. `GET /auth/sso/{provider}/callback?code&state` takes the flow back once (a DELETE …
   RETURNING: single use), checks the cookie, exchanges the code, validates the ID token, finds
   or creates the account, and redirects to `return_to?code=<one-time code>` (or
   `?error=<reason>`).
3. `POST /auth/sso/exchange {code}` trades the one-time code (60 s, single use) for our own
   token pair: a session like a password login's. Tokens never travel in a URL.

Identities are listed and unlinked on /users/me/identities; the last way to sign in is never
unlinked. The OpenID Connect client (`oidc_client.py`, Authlib) loads only once a provider is
configured and used (`oidc.py`).
"""
