"""The example app built on core: users (with their API keys and single sign-on) and a messenger."""
