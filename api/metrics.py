"""GET /metrics: Prometheus text exposition of the ledger's health and governance backlog.

The figures are read from PostgreSQL at scrape time, so every web worker answers the same
and nothing has to be shared between processes: the log's head and what is not yet
checkpointed, the outbox backlog, and the governance work that is open or late."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db import connection
from drf_spectacular.utils import extend_schema
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import clock

# (metric name, help, SQL returning (label value, figure) rows or one figure, label name)
_GROUPED = (
    (
        "ledger_model_versions",
        "Model versions by lifecycle status.",
        "SELECT status, count(*) FROM registry_modelversion GROUP BY status",
        "status",
    ),
    (
        "ledger_approval_requests",
        "Approval requests by status.",
        "SELECT status, count(*) FROM approvals_approvalrequest GROUP BY status",
        "status",
    ),
    (
        "ledger_findings_open",
        "Open findings by severity.",
        "SELECT severity, count(*) FROM governance_finding WHERE status = 'open' GROUP BY severity",
        "severity",
    ),
    (
        "ledger_bias_audits",
        "Recorded bias audits by verdict.",
        "SELECT verdict, count(*) FROM governance_biasaudit GROUP BY verdict",
        "verdict",
    ),
)


class LedgerCollector:
    """Collects on every scrape; a scrape costs a handful of indexed queries."""

    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        with connection.cursor() as cursor:
            yield from self._log(cursor, now)
            yield from self._outbox(cursor, now)
            yield from self._reviews(cursor, now)
            for name, documentation, sql, label in _GROUPED:
                family = GaugeMetricFamily(name, documentation, labels=[label])
                cursor.execute(sql)
                for value, count in cursor.fetchall():
                    family.add_metric([value], count)
                yield family

    def _log(self, cursor, now: datetime) -> Iterator[Metric]:
        cursor.execute("SELECT coalesce(max(position), 0) FROM eventstore_event")
        (head,) = cursor.fetchone()
        yield GaugeMetricFamily(
            "ledger_log_position", "Global position of the newest event.", value=head
        )
        cursor.execute("SELECT coalesce(max(leaf_index) + 1, 0) FROM eventstore_leaf")
        (leaves,) = cursor.fetchone()
        yield GaugeMetricFamily(
            "ledger_merkle_leaves", "Events sequenced into the Merkle tree.", value=leaves
        )
        cursor.execute(
            "SELECT count(*) FROM eventstore_event WHERE position >"
            " (SELECT coalesce(max(position), 0) FROM eventstore_leaf)"
        )
        (unsequenced,) = cursor.fetchone()
        yield GaugeMetricFamily(
            "ledger_events_not_sequenced",
            "Events newer than the last Merkle leaf (not yet covered by any checkpoint).",
            value=unsequenced,
        )
        cursor.execute(
            "SELECT tree_size, created_at FROM eventstore_checkpoint ORDER BY id DESC LIMIT 1"
        )
        row = cursor.fetchone()
        size, created = row if row else (0, None)
        yield GaugeMetricFamily(
            "ledger_checkpoint_tree_size", "Tree size of the newest signed checkpoint.", value=size
        )
        if created is not None:
            yield GaugeMetricFamily(
                "ledger_checkpoint_age_seconds",
                "Seconds since the newest signed checkpoint was written.",
                value=(now - created).total_seconds(),
            )

    def _outbox(self, cursor, now: datetime) -> Iterator[Metric]:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE dispatched_at IS NULL),"
            " count(*) FILTER (WHERE dispatched_at IS NULL AND attempts > 0),"
            " min(created_at) FILTER (WHERE dispatched_at IS NULL),"
            " count(*) FILTER (WHERE dispatched_at IS NOT NULL)"
            " FROM eventstore_outbox WHERE completed_at IS NULL"
        )
        pending, retrying, oldest, unfinished = cursor.fetchone()
        yield GaugeMetricFamily(
            "ledger_outbox_pending", "Side effects recorded but not yet published.", value=pending
        )
        yield GaugeMetricFamily(
            "ledger_outbox_retrying",
            "Pending side effects whose publication failed at least once.",
            value=retrying,
        )
        yield GaugeMetricFamily(
            "ledger_outbox_unfinished",
            "Side effects published but not yet finished by a worker.",
            value=unfinished,
        )
        yield GaugeMetricFamily(
            "ledger_outbox_oldest_pending_age_seconds",
            "Age of the oldest unpublished side effect (0 when none).",
            value=(now - oldest).total_seconds() if oldest else 0,
        )

    def _reviews(self, cursor, now: datetime) -> Iterator[Metric]:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE due_at > %s), count(*) FILTER (WHERE due_at <= %s),"
            " count(*) FILTER (WHERE escalation_level > 0), count(*) FILTER (WHERE non_compliant)"
            " FROM governance_periodicreview WHERE status = 'open'",
            (now, now),
        )
        upcoming, overdue, escalated, non_compliant = cursor.fetchone()
        family = GaugeMetricFamily(
            "ledger_periodic_reviews_open", "Open periodic reviews by timing.", labels=["timing"]
        )
        family.add_metric(["due"], upcoming)
        family.add_metric(["overdue"], overdue)
        yield family
        yield GaugeMetricFamily(
            "ledger_periodic_reviews_escalated", "Open reviews escalated.", value=escalated
        )
        yield GaugeMetricFamily(
            "ledger_periodic_reviews_non_compliant",
            "Open reviews whose version is marked non-compliant.",
            value=non_compliant,
        )


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector())
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


_REGISTRY = _registry()


class PrometheusText(BaseRenderer):
    media_type = CONTENT_TYPE_LATEST.split(";")[0]
    format = "prometheus"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class _TextOnly(BaseContentNegotiation):
    """Scrapers ask for OpenMetrics or text in many spellings; the answer is always text."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CanReadMetrics(BasePermission):
    """Operators (staff) and auditors: the backlog says what the ledger is doing."""

    message = "reading metrics needs a staff account or the auditors' view permission"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        return user.is_staff or user.has_perm("eventstore.view_event")


class MetricsApi(APIView):
    permission_classes = [CanReadMetrics]
    renderer_classes = [PrometheusText]
    content_negotiation_class = _TextOnly

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        response = Response(generate_latest(_REGISTRY))
        response["Cache-Control"] = "no-store"
        return response
