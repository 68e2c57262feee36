"""The edges: command line and browser chat."""
