"""The evolutionary program database and the campaign loop."""
