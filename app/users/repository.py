from sqlalchemy import Select

from app.users.models import User
from core.repository import BaseRepository


class UserRepository(BaseRepository[User]):
    model = User
    conflict_detail = "A user with this email already exists."

    def by_email(self, email: str) -> Select[User]:
        return self.select().where(User.email == email)
