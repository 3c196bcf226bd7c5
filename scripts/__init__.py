"""Development scripts (`python -m scripts.openapi`) and the docs site's MkDocs hooks."""
