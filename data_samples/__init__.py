"""Synthetic sample data for Candor: generators and the committed sample files."""

from pathlib import Path

# The samples are package data beside this file, so they are found installed or not.
_HERE = Path(__file__).resolve().parent
HCP_LEADS_CSV = _HERE / "hcp_leads.csv"
SALES_WEEKLY_CSV = _HERE / "sales_weekly.csv"
