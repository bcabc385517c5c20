"""One module per task kind; ``base`` holds what every task does around its own work."""
