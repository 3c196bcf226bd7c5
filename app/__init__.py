"""The app built on core: users (with their API keys and single sign-on), and the optional
domains of app/domains.py (the messenger example)."""
