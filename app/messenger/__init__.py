"""The messenger example: threads, their participants and messages."""
