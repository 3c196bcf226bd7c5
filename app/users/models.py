from sqlalchemy import JSON, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import CommonBase


class User(CommonBase):
    __tablename__ = "users"
    __table_args__ = (
        # Unique among live rows only: a soft-deleted account frees its email.
        Index(
            "uq_users_email_live",
            "email",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    email: Mapped[str] = mapped_column(String(320))  # stored normalised (lower-case)
    hashed_password: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    scopes: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["regular"])
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped to revoke every token of the user at once (logout-all, password change, demotion).
    token_version: Mapped[int] = mapped_column(default=0)
