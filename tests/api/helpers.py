"""What the API tests check alike: an RFC 9457 problem response."""

from __future__ import annotations

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["type"] == f"/problems/{code}"
    return body
