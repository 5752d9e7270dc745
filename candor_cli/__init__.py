"""The `candor` console command."""
