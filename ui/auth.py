"""Optional login: ``RAG_AUTH="user:password[,user2:password2]"`` or a path to a file
of ``user:password`` lines. The API takes HTTP Basic; the Gradio UI its own login."""

from __future__ import annotations

import base64
import binascii
import contextlib
import secrets
from pathlib import Path

from fastapi import Request
from fastapi.responses import JSONResponse


class AuthConfigError(ValueError):
    pass


def load_users(spec: str | None) -> dict[str, str]:
    if not spec:
        return {}
    path = Path(spec)
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        where = str(path)
    else:
        lines = spec.split(",")
        where = "RAG_AUTH"
    users: dict[str, str] = {}
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            # Never echo the line: it may hold a password.
            raise AuthConfigError(f"{where} 第 {n} 项格式不对：应为 用户名:密码")
        users[user] = password
    return users


def check_credentials(users: dict[str, str], user: str, password: str) -> bool:
    expected = users.get(user)
    # compare_digest on both branches so timing does not reveal which users exist
    return secrets.compare_digest(expected or "\0", password) and expected is not None


def basic_auth_middleware(users: dict[str, str]):
    """Require HTTP Basic on /api and /docs (the Gradio app guards its own routes)."""

    async def middleware(request: Request, call_next):
        path = request.url.path
        if users and (path.startswith("/api/") or path in ("/docs", "/openapi.json", "/redoc")):
            header = request.headers.get("authorization", "")
            user = password = ""
            if header.lower().startswith("basic "):
                with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                    user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            if not check_credentials(users, user, password):
                return JSONResponse(
                    {"error": "需要登录：请用 HTTP Basic 提供 RAG_AUTH 中的用户名和密码"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="rag"'},
                )
        return await call_next(request)

    return middleware
