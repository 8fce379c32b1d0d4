"""Lineage in the admin: the SVG picture on version pages links every node to its page, and
the "Export audit bundle" action streams a bundle for auditors only and records it."""

import io
import re
import zipfile

import pytest
from django.test import Client

from eventstore import checkpoints
from eventstore.models import Event
from lineage import commands, queries
from registry.models import RegisteredModel
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _svg(page: bytes) -> str:
    match = re.search(rb'<svg[^>]*class="lineage-picture".*?</svg>', page, re.S)
    assert match, "no lineage picture on the page"
    return match.group(0).decode()


def test_version_pages_show_a_linked_lineage_picture(admin_client, ledger):
    (data,) = ledger.dataset("transactions")
    base, tuned = ledger.model("fraud", 2, training_datasets=("transactions@1",))
    commands.record_edge(actor=ledger.actor, source=base, target=tuned, edge_type="fine_tuned_from")
    node = queries.get_node(base)
    page = admin_client.get(f"/admin/registry/modelversion/{node.id}/change/")
    assert page.status_code == 200
    svg = _svg(page.content)
    assert "<script" not in svg
    links = set(re.findall(r'<a href="([^"]+)"', svg))
    tuned_id, data_id = queries.get_node(tuned).id, queries.get_node(data).id
    assert links == {
        f"/admin/registry/modelversion/{node.id}/change/",
        f"/admin/registry/modelversion/{tuned_id}/change/",
        f"/admin/registry/datasetversion/{data_id}/change/",
    }
    for link in links:
        assert admin_client.get(link).status_code == 200
    # Each edge is labelled with its type; names are whole, wrapped over lines, never cut.
    labels = re.findall(r'<g class="lineage-edge">.*?<text[^>]*>([^<]+)</text></g>', svg)
    assert sorted(labels) == ["fine_tuned_from", "trained_on"]
    assert "…" not in svg
    assert "model version" in svg and "dataset or dataset version" in svg  # the legend
    dataset_page = admin_client.get(f"/admin/registry/datasetversion/{data_id}/change/")
    assert base in _svg(dataset_page.content) and tuned in _svg(dataset_page.content)


def test_export_audit_bundle_action_is_for_auditors(admin_client, ledger):
    ledger.model("fraud")
    model = RegisteredModel.objects.get(name="fraud")
    action = {"action": "export_audit_bundle", "_selected_action": [str(model.id)]}
    checkpoints.write_checkpoint()  # the signer's: an export signs nothing
    response = admin_client.post("/admin/registry/registeredmodel/", action)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert {"manifest.json", "verify.py", "events.jsonl"} <= set(archive.namelist())
    started = Event.objects.get(type="lineage.ExportStarted")
    assert started.data["parameters"]["via"] == "admin"
    assert Event.objects.filter(type="lineage.ExportCompleted").count() == 1

    staff = make_user("sam-staff", perms=("registry.view_registeredmodel",))
    staff.is_staff = True
    staff.save()
    client = Client()
    client.force_login(staff)
    refused = client.post("/admin/registry/registeredmodel/", action, follow=True)
    assert b"Only auditors and administrators can export." in refused.content
    assert Event.objects.filter(type="lineage.ExportStarted").count() == 1


def test_the_edge_list_names_both_ends(admin_client, ledger):
    (data,) = ledger.dataset("applications")
    (version,) = ledger.model("scorer", 1, training_datasets=("applications@1",))
    listing = admin_client.get("/admin/lineage/lineageedge/").content.decode()
    assert data in listing and version in listing
    assert str(queries.get_node(data).id) not in listing
