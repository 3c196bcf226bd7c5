from tests.app.messenger.support import clear_messenger_rows

__all__ = ["clear_messenger_rows"]
