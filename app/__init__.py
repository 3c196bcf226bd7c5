"""The app built on core: users, and the optional domains of app/domains.py (the messenger
example)."""
