"""API keys: named credentials for scripts, CI jobs and partner servers.

A key looks like `plk_` + 40 base62 characters + a 6-character CRC32 checksum, so secret
scanners can recognise it and a mistyped key is refused without a database query (`keys.py`).
Only the SHA-256 of the key is stored (keys are random, 238 bits: a slow hash adds nothing) and a
unique index on it makes verification one indexed lookup, joined to the owner so revocation,
deactivation and demotion take effect on the next request on every worker
(`authentication.py`). `last_used_at` is written at most once per LAST_USED_RESOLUTION per key,
never on every request.
"""
