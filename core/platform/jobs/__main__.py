"""`python -m core.platform.jobs app.jobs:registry` starts a worker (see worker.py)."""

from core.platform.jobs.worker import main

raise SystemExit(main())
