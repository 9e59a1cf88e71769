"""Coupons: pools of codes granted once per person per campaign, journey step or reward."""
