"""The pure domain core: durations, dates, the command grammar, FIFO allocation, roles and threshold
crossings. Standard library only: no Slack, no SQLAlchemy, no clock."""
