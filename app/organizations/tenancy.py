"""Organization scoping for any entity of the app (core/tenancy.py):

class DocumentController(BaseController[Document, DocumentCreate, DocumentUpdate]):
    tenant = in_organization(Roles(read="member", write="admin"))

CrudRouter(DocumentController, DocumentRead, prefix="/organizations/{organization_id}/documents")
"""

from app.organizations.models import Membership, OrganizationRole
from core.tenancy import Memberships, Roles, Tenant

MEMBERS = Memberships(Membership, ranks=list(OrganizationRole), noun="organization")
"""Who belongs to which organization (live `memberships` rows), roles lowest first."""


def in_organization(roles: Roles | None = None, *, field: str = "organization_id") -> Tenant:
    """Rows that belong to the organization in `field`: members only (404 for others), with
    `roles` per action (403 for members whose role is too low)."""
    return Tenant(MEMBERS, field, roles or Roles())
