"""Every job of the app, for the API process and the worker
(`python -m core.platform.jobs app.jobs:registry`)."""

import app.models  # noqa: F401 - every model mapped (purge_deleted looks tables up)
from app.domains import wirings
from app.organizations.invitations import jobs as organizations_jobs
from app.users.jobs import jobs as users_jobs
from core.platform.jobs import JobRegistry, maintenance

optional = [wiring.jobs for wiring in wirings() if wiring.jobs is not None]
registry = JobRegistry().include(maintenance, users_jobs, organizations_jobs, *optional)
