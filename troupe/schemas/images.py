"""Image content parts of a user message, as letta-client 1.12.1 sends them (`ImageContent`):
an image by URL or as base64 data. troupe keeps the part as sent and hands it to providers
that take images; it never fetches a URL itself (the provider does)."""

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from troupe.schemas.common import InputModel

MAX_IMAGE_BASE64 = 20_000_000  # characters of base64 data (about 15 MB of image)
ImageMediaType = Annotated[str, Field(pattern=r"^image/[A-Za-z0-9.+-]+$", max_length=64)]


class UrlImage(InputModel):
    type: Literal["url"] = "url"
    url: str = Field(max_length=4096, pattern=r"^(https?://\S+|data:image/\S+)$")


class Base64Image(InputModel):
    type: Literal["base64"] = "base64"
    data: str = Field(min_length=1, max_length=MAX_IMAGE_BASE64, pattern=r"^[A-Za-z0-9+/=\s]+$")
    media_type: ImageMediaType
    detail: str | None = Field(default=None, max_length=16)


def _source_kind(value: Any) -> str:
    """`type` may be left out: a source with `data` is base64, one with `url` a URL."""
    if isinstance(value, dict):
        kind = value.get("type") or ("base64" if "data" in value else "url")
        return str(kind)
    return str(getattr(value, "type", "url"))


ImageSource = Annotated[
    Annotated[UrlImage, Tag("url")] | Annotated[Base64Image, Tag("base64")],
    Discriminator(_source_kind),
]


class ImageContent(InputModel):
    type: Literal["image"] = "image"
    source: ImageSource
