"""The JSON API as a script calls it: a bearer token, one client IP, answers decoded."""

import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

PASSWORD = "correct-horse-battery-staple"
API_IP = "203.0.113.5"


@dataclass
class Answer:
    """An API response, decoded."""

    status: int
    body: Any
    headers: Any

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None


class Api:
    """Calls the API the way a script does: JSON in, JSON out, a bearer token, one client IP."""

    def __init__(self, ip: str = "127.0.0.1"):
        self.client = Client()
        self.ip = ip
        self.token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        ip: str | None = None,
        **extra: Any,
    ) -> Answer:
        sent = dict(headers or {})
        bearer = token if token is not None else self.token
        if bearer is not None and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {bearer}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs: dict[str, Any] = {"headers": sent, "REMOTE_ADDR": ip or self.ip, **extra}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        response = getattr(self.client, method.lower())("/api/v1" + path, **kwargs)
        content = response.content
        try:
            decoded = json.loads(content) if content else None
        except ValueError:
            decoded = content.decode(errors="replace")
        return Answer(response.status_code, decoded, response.headers)

    def get(self, path: str, **kw: Any) -> Answer:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("PATCH", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Answer:
        return self.call("DELETE", path, **kw)

    def login(self, username: str, password: str = PASSWORD, **kw: Any) -> Answer:
        answer = self.post("/auth/login", {"username": username, "password": password}, **kw)
        if answer.status == 200:
            self.token = answer.body["token"]
        return answer
