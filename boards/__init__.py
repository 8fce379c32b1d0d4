"""Review boards, their members and chairs, and the parties separation of duties keeps apart
(a model's owners, a version's authors)."""
