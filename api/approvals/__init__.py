"""Approvals API: review boards, approval requests, decisions and the promotion gate."""
