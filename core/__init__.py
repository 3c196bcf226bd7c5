"""Plinth core: the framework library. Imports nothing from app/ or routers/."""
