"""The read-only web viewer of campaigns."""
