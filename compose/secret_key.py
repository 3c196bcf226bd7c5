"""Write a random AUTH_SECRET_KEY to PATH on the first run; keep the one there on every later run.

Run by launch.yml's one-shot `secret-key` service into the `app-secrets` volume, so the first
`docker compose up` needs no prior step and no secret ever comes from the repository.
compose/entrypoint reads the file when AUTH_SECRET_KEY is not set in the environment.

    python compose/secret_key.py /app/secrets/auth_secret_key
"""

import os
import secrets
import sys
from pathlib import Path

KEY_BYTES = 48


def ensure_key(path: Path) -> bool:
    """Create `path` holding a new key (mode 0600) unless it exists; True if it was created.

    The key is written to a temporary file and linked into place, so a crash never leaves a
    partial key and two concurrent runs keep one key."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(KEY_BYTES))
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: secret_key.py PATH", file=sys.stderr)
        return 2
    path = Path(argv[1])
    created = ensure_key(path)
    print(f"{'generated' if created else 'kept'} the secret key in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
