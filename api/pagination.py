"""Cursor pagination: stable under concurrent inserts, with a bounded page size (a malformed
or out-of-range page_size falls back to the default or the maximum)."""

from rest_framework.pagination import CursorPagination


class LedgerCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-created_at"
