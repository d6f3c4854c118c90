"""Request and event log lines on standard output: text, or one JSON object a line
(ADMINPANEL_LOG_FORMAT=json)."""

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

# The id of the request being served, for the event lines it causes.
REQUEST_ID: ContextVar[str] = ContextVar("adminpanel_request_id", default="")

requests_log = logging.getLogger("adminpanel.requests")
events_log = logging.getLogger("adminpanel.events")


# C0 and C1 control characters and DEL: a line break in a request path would write a line of
# its own (a forged log entry), an escape sequence would reach the operator's terminal.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match) -> str:
    return f"\\x{ord(match.group()):02x}"


class TextFormatter(logging.Formatter):
    """The text format: each record's message on one line, control characters escaped
    (`\\x0a`); a traceback after it keeps its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return CONTROL.sub(_escape, super().formatMessage(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if fields is not None:
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_request(fields: dict) -> None:
    requests_log.info(
        '%(ip)s %(account)s "%(method)s %(path)s" %(status)s %(duration_ms).1fms %(request_id)s',
        fields,
        extra={"fields": fields},
    )


def log_event(fields: dict) -> None:
    events_log.info(
        "event %(event)s actor=%(actor)s ip=%(ip)s %(request_id)s", fields, extra={"fields": fields}
    )
