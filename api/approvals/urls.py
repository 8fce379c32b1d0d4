"""Approvals routes (README, Governance and approvals): boards, approval requests and their
decisions."""

from django.urls import path

from api.approvals import views

urlpatterns = [
    path("boards/", views.BoardCollectionApi.as_view(), name="boards"),
    path("boards/<str:board>/", views.BoardApi.as_view(), name="board"),
    path(
        "boards/<str:board>/members/",
        views.BoardMemberCollectionApi.as_view(),
        name="board-members",
    ),
    path(
        "boards/<str:board>/members/<int:user_id>/",
        views.BoardMemberApi.as_view(),
        name="board-member",
    ),
    path("boards/<str:board>/chair/", views.BoardChairApi.as_view(), name="board-chair"),
    path("approvals/", views.ApprovalCollectionApi.as_view(), name="approvals"),
    path("approvals/<uuid:request_id>/", views.ApprovalApi.as_view(), name="approval"),
    path(
        "approvals/<uuid:request_id>/history/",
        views.ApprovalHistoryApi.as_view(),
        name="approval-history",
    ),
    path(
        "approvals/<uuid:request_id>/decisions/",
        views.DecisionCollectionApi.as_view(),
        name="approval-decisions",
    ),
    path(
        "approvals/<uuid:request_id>/withdraw/",
        views.WithdrawApi.as_view(),
        name="approval-withdraw",
    ),
    path(
        "approvals/<uuid:request_id>/suspension/",
        views.ApprovalSuspensionApi.as_view(),
        name="approval-suspension",
    ),
    path(
        "approvals/<uuid:request_id>/reinstatement/",
        views.ApprovalReinstatementApi.as_view(),
        name="approval-reinstatement",
    ),
]
