"""Filters of the platform's logs."""

import logging


class OneLineRefusals(logging.Filter):
    """A refused request (403) is an answer, not a crash: Django logs it with
    the PermissionDenied traceback, which makes a newcomer think the platform
    failed. Keep the one line that names the address."""

    def filter(self, record):
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
