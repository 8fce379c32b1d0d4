"""The auditor's workspace in the admin: the exports (the whole ledger's audit trail, each
model's audit bundle, trail and lineage, served by the API's export endpoints under the
auditor's session and recorded like every export), the exports made lately, and the latest
signed checkpoint with the public key to pin. Only auditors (the `auditors` group) and
superusers have it, as only they may export."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from eventstore import checkpoints
from eventstore.admin_site import (
    Row,
    Section,
    Workspace,
    actor_names,
    button,
    register,
    render_workspace,
    when,
)
from eventstore.models import Event
from lineage import events as ev
from lineage.permissions import is_auditor
from registry.models import ModelVersion, RegisteredModel

RECENT_EXPORTS = 15


class AuditorWorkspace:
    """The auditor's page, on the lineage nodes' admin (admin.LineageNodeAdmin)."""

    def get_urls(self):
        return [
            path(
                "auditor/",
                self.admin_site.admin_view(self.auditor_view),
                name="lineage_auditor_workspace",
            ),
            *super().get_urls(),
        ]

    def auditor_view(self, request):
        """The auditor's workspace; the downloads are the API's export endpoints."""
        if not is_auditor(request.user):
            raise PermissionDenied
        return render_workspace(
            self,
            request,
            title="Audit exports",
            intro="Every export is recorded in the ledger under your name. A bundle verifies"
            " offline with the verify.py it carries: pin the public key shown below, taken from"
            " here rather than from the bundle (python3 verify.py audit-bundle.zip --public-key"
            " KEY).",
            sections=[
                _checkpoint_section(),
                _ledger_section(),
                _models_section(),
                _exports_section(),
            ],
        )


def _export_url(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params, doseq=True)}"


def _checkpoint_section() -> Section:
    checkpoint = checkpoints.latest()
    rows = []
    if checkpoint is not None:
        keys = {k.key_id: k for k in checkpoints.published_keys()}
        key = keys.get(checkpoint.key_id)
        rows.append(
            Row(
                [
                    format_html("{} events", checkpoint.tree_size),
                    format_html(
                        "<code class='ws-key'>{}</code>", bytes(checkpoint.root_hash).hex()
                    ),
                    when(checkpoint.created_at),
                    format_html(
                        "<code class='ws-key' id='public-key'>{}</code>"
                        "<div class='ws-quiet'>key {}{}</div>",
                        key.public_key if key else "not among the published keys",
                        checkpoint.key_id,
                        " (current)" if key and key.current else "",
                    ),
                ],
                key="latest-checkpoint",
            )
        )
    return Section(
        key="checkpoint",
        title="Latest signed checkpoint",
        columns=["tree size", "root hash", "signed", "public key (Ed25519, base64)"],
        rows=rows,
        empty="No checkpoint has been signed yet: the signer (manage.py run_signer) signs one"
        " within a minute of new events.",
        actions=False,
        counted=False,
    )


def _ledger_section() -> Section:
    return Section(
        key="ledger-exports",
        title="The whole ledger",
        columns=["export", "formats"],
        rows=[
            Row(
                [
                    "Audit trail: every event in log order, with its hashes and a signed trailer",
                    format_html(
                        "{} {}",
                        button(_export_url("export-audit-trail", format="jsonl"), "JSON lines"),
                        button(_export_url("export-audit-trail", format="csv"), "CSV"),
                    ),
                ]
            )
        ],
        empty="",
        counted=False,
    )


def _models_section() -> Section:
    models = list(RegisteredModel.objects.order_by("name"))
    counts: dict = {}
    latest: dict = {}
    for model_id, number in ModelVersion.objects.values_list("model_id", "number"):
        counts[model_id] = counts.get(model_id, 0) + 1
        latest[model_id] = max(latest.get(model_id, 0), number)
    rows = []
    for m in models:
        buttons = [
            button(
                _export_url("export-audit-bundle", model=m.name),
                "Download audit bundle",
                "download-bundle",
            ),
            button(_export_url("export-audit-trail", model=m.name, format="csv"), "Trail (CSV)"),
        ]
        if m.id in latest:
            node = f"model:{m.name}@{latest[m.id]}"
            buttons.append(
                button(_export_url("export-lineage", node=node, format="prov"), "Lineage (PROV)")
            )
        rows.append(
            Row(
                [
                    format_html("<strong>{}</strong>", m.name),
                    m.team,
                    counts.get(m.id, 0),
                    format_html_join(" ", "{}", ((b,) for b in buttons)),
                ],
                key=f"model-{m.name}",
            )
        )
    return Section(
        key="model-exports",
        title="Per model: audit bundle, trail and lineage",
        intro="A bundle holds the model's streams and those of its lineage, their events and"
        " proofs up to the newest signed checkpoint, and the offline verifier. The lineage is"
        " that of the newest version, upstream and downstream, in W3C PROV.",
        columns=["model", "owners", "versions", ""],
        rows=rows,
        empty="No model is registered yet.",
    )


def _exports_section() -> Section:
    started = list(
        Event.objects.filter(type=ev.ExportStarted.event_type).order_by("-position")[
            :RECENT_EXPORTS
        ]
    )
    by = actor_names(e.metadata.get("actor", "") for e in started)
    rows = [
        Row(
            [
                e.data["kind"].replace("-", " "),
                e.data["format"],
                e.data["subject"],
                by[e.metadata.get("actor", "")],
                when(e.recorded_at),
            ]
        )
        for e in started
    ]
    return Section(
        key="recent-exports",
        title="Exports made lately",
        columns=["export", "format", "subject", "by", "when"],
        rows=rows,
        empty="Nothing has been exported yet.",
        actions=False,
    )


register(
    Workspace(
        key="auditor",
        title="Audit exports",
        role="Auditor",
        description="Audit trails and offline-verifiable bundles to download; the latest signed"
        " checkpoint and the public key to pin.",
        url_name="lineage_auditor_workspace",
        holds=is_auditor,
        waiting=lambda user: 0,
        order=60,
    )
)
