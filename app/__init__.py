"""The example app built on core: users and a messenger."""
