"""The scoring core shared by every path, and the batch command and Spark engine on it."""
