"""The registry in the admin: read-only pages with each object's event history."""

import pytest

from registry import commands
from registry.commands import VersionInput

pytestmark = pytest.mark.django_db


def test_model_and_version_pages_show_history_but_no_edit_controls(admin_client, owner_actor):
    model = commands.register_model(actor=owner_actor, name="fraud-detector", team="fraud-ml")
    version = commands.create_model_version(
        actor=owner_actor, model_id=model.id, data=VersionInput()
    )
    page = admin_client.get(f"/admin/registry/registeredmodel/{model.id}/change/")
    assert page.status_code == 200
    assert b"registry.ModelRegistered" in page.content
    assert b"registry.ModelVersionNumbered" in page.content
    assert b'name="_save"' not in page.content
    version_page = admin_client.get(f"/admin/registry/modelversion/{version.id}/change/")
    assert b"registry.ModelVersionCreated" in version_page.content
    assert admin_client.get("/admin/registry/registeredmodel/add/").status_code == 403
    listing = admin_client.get("/admin/registry/registeredmodel/")
    assert b"fraud-detector" in listing.content
