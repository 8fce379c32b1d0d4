"""Django app configuration for approvals: review boards, approval requests, the gate."""

from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"

    def ready(self) -> None:
        # The registry sits below approvals: it learns of the gate's check here, at start-up.
        # Imported here, as Django asks of code that needs the models loaded, not to dodge a
        # cycle: the gate reads approvals' and governance's read tables.
        from approvals.gate import require_promotion  # noqa: PLC0415
        from registry.promotion import register_promotion_check  # noqa: PLC0415

        register_promotion_check(require_promotion)
