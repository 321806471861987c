"""The ``[[http.requests]]`` profile tables: a weighted mix of endpoints in one HTTP stage.

No behaviour here (see :mod:`soakwatch.targets.http_mix`). Example::

    target = "http://127.0.0.1:8000/v1/chat/completions"
    [http]
    max_tokens = 64
    [[http.requests]]
    name = "chat"
    weight = 70
    stream = true
    body = { model = "m", messages = [{ role = "user", content = "{prompt}" }] }
    [[http.requests]]
    name = "embeddings"
    path = "/v1/embeddings"
    weight = 20
    body = { model = "m", input = "{prompt}" }
    [[http.requests]]
    name = "models"
    path = "/v1/models"
    weight = 10
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from soakwatch.config.base import ProfileModel

__all__ = ["HttpRequest"]

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


class HttpRequest(ProfileModel):
    """One endpoint of the mix (``[[http.requests]]``); what it leaves out comes from ``[http]``."""

    name: str = Field(description="the endpoint's row in every view (letters, digits, _ . -)", examples=["chat"])
    weight: float = Field(default=1.0, gt=0, description="share of the calls, relative to the others' weights")
    path: str | None = Field(
        default=None,
        description="a path on the target's host ('/v1/embeddings') or a whole http(s):// URL; default: the target",
        examples=["/v1/embeddings"],
    )
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] | None = Field(
        default=None, description="default: POST with a body, else GET; a HEAD endpoint is judged by its status only"
    )
    body: Any = Field(default=None, description="JSON body; placeholders such as {prompt} from the case")
    stream: bool = Field(default=False, description="a streamed answer (as [http] stream), 'max_tokens' from [http]")
    expect_json_field: list[str] = Field(
        default_factory=list, description="dotted paths a good answer must have", examples=[["data.0.embedding"]]
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v!r}: 1 to 40 letters, digits, '_', '.' or '-'")
        return v

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("/", "http://", "https://")):
            raise ValueError(f"{v!r}: a path starting with '/' or an http(s):// URL")
        return v

    @model_validator(mode="after")
    def _head(self) -> HttpRequest:
        if self.method == "HEAD" and (self.expect_json_field or self.stream or self.body is not None):
            raise ValueError(
                f"[[http.requests]] {self.name}: method = 'HEAD' has no body to send or check; "
                "drop body / stream / expect_json_field, or use GET"
            )
        return self
