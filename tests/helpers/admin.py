"""Admin test helpers: a logged-in staff client, and a confirm-and-post form read and submitted
as a browser would."""

from __future__ import annotations

from html.parser import HTMLParser

from django.test import Client


def staff_client(user) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


class _FormFields(HTMLParser):
    """The fields of the confirm-and-post form, with the values a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_form = attr.get("id") == "confirm-and-post"
        elif not self._in_form:
            return
        elif tag == "input" and attr.get("type") not in ("submit", "checkbox", "radio"):
            self.fields[attr["name"]] = attr.get("value", "")
        elif tag == "select":
            self._select = attr["name"]
        elif tag == "option" and self._select is not None:
            # The selected option, or the first one where none is.
            if self._select not in self.fields or "selected" in attr:
                self.fields[self._select] = attr.get("value", "")
        elif tag == "textarea":
            self._textarea = attr["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # As in a browser, the newline right after <textarea> is not part of the value.
            self.fields[self._textarea] = self.fields[self._textarea].removeprefix("\n")
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self.fields[self._textarea] += data


def form_fields(page) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(page.content.decode())
    return parser.fields


def submit_form(client: Client, url: str, data: dict):
    """As a browser would: open the page, fill in `data` and post the form back, with the
    token of what the page showed that the form carries."""
    page = client.get(url)
    assert page.status_code == 200, page.content
    return client.post(url, {**form_fields(page), **data})
