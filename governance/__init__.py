"""Risk-tier policies, intake, evidence, bias audits, review cadences and findings."""
