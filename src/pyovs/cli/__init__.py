"""Command-line tools, each a thin edge over the library."""
