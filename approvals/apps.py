"""Django app configuration for approvals: review boards, approval requests, the gate."""

from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"

    def ready(self) -> None:
        # The registry sits below approvals: it learns of the gate's check here, at start-up.
        from approvals.gate import require_promotion
        from registry.promotion import register_promotion_check

        register_promotion_check(require_promotion)
