"""The audit log of a set of streams: trails (JSON Lines, CSV), the self-verifying audit bundle
and the offline verifier shipped inside it. Which streams concern a subject is decided above."""
