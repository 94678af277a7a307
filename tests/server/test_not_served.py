"""Every route either SDK line can call answers: served for real (listed in the OpenAPI
document), or 501 with a detail naming the route. A typo still answers 404, and so does a
served route asked about an unknown id."""

import re
from typing import Any

import httpx
import pytest

from tests.support.sdks import legacy_sdk
from troupe.server.sdk_routes import sdk_routes

PARAMETER = re.compile(r"\{[^}]+\}")


def _shape(path: str) -> str:
    return PARAMETER.sub("{}", path.rstrip("/"))


def _served(http: httpx.Client) -> set[tuple[str, str]]:
    spec = http.get("/openapi.json").json()
    return {(m.upper(), _shape(p)) for p, item in spec["paths"].items() for m in item}


def test_every_sdk_route_is_served_or_answers_501_naming_it(http: httpx.Client) -> None:
    served = _served(http)
    missing = [(m, p) for m, p, _ in sdk_routes() if (m, _shape(p)) not in served]
    for method, path in missing:
        response = http.request(method, PARAMETER.sub("x-1", path))
        assert response.status_code == 501, (method, path, response.status_code, response.text)
        assert f"{method} {path}" in response.json()["detail"]
    assert len(missing) < len(sdk_routes())


def test_the_sdks_read_501_as_an_error_naming_the_route(client: Any, legacy_client: Any) -> None:
    from letta_client import APIStatusError

    with pytest.raises(APIStatusError) as current:
        client.with_options(max_retries=0).templates.create(agent_id="agent-x", type="agent")
    assert current.value.status_code == 501
    assert "/v1/templates" in str(current.value)
    api_error = legacy_sdk().core.api_error.ApiError
    with pytest.raises(api_error) as legacy:
        legacy_client.voice.create_voice_chat_completions(agent_id="agent-x", request={})
    assert legacy.value.status_code == 501


def test_a_typo_and_an_unknown_id_still_answer_404(http: httpx.Client) -> None:
    assert http.get("/v1/agentz").status_code == 404
    assert http.get("/v1/agents/agent-missing/no-such-thing").status_code == 404
    unknown = http.get("/v1/agents/agent-00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    assert "not" in unknown.json()["detail"]


def test_no_501_route_is_added_for_a_route_served_for_real() -> None:
    from fastapi.routing import APIRoute

    from troupe.server.app import create_app

    app = create_app()
    served = {(m.upper(), _shape(p)) for p, item in app.openapi()["paths"].items() for m in item}
    not_served = {
        (m, _shape(r.path))
        for r in app.router.routes
        if isinstance(r, APIRoute) and r.endpoint.__name__.startswith("not_served")
        for m in r.methods or ()
    }
    assert ("GET", "/v1/agents") in served
    assert not_served
    assert not (served & not_served)
    assert served | not_served >= {(m, _shape(p)) for m, p, _ in sdk_routes()}
