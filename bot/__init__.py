"""blocktime: prepaid block-time agreements for MSPs, run from Slack."""

__version__ = "0.1.0"
