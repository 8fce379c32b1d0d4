"""Review boards, approval requests, decisions and the promotion gate."""
