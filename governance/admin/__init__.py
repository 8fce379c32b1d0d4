"""Read-only admin of governance projections: policy versions, risk records, evidence,
periodic reviews (due, overdue and escalated), with a form that completes a review through
the same command as the API, bias audits, findings and serious incidents with their Art. 73
reporting clocks, with forms that record the report to the authority and close them.

One module per area (records, reviews, audits, incidents); importing this package registers
them all. `pretty` and `selection_rate_chart` are shared with approvals' admin."""

from governance.admin import audits, incidents, records, reviews
from governance.admin.charts import selection_rate_chart
from governance.admin.records import pretty

__all__ = ["audits", "incidents", "pretty", "records", "reviews", "selection_rate_chart"]
