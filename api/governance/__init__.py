"""Governance API: policies, risk tiers, evidence, waivers and suspensions."""
