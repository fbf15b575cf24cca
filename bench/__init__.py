"""The benchmark harness behind `make bench` (see bench/README.md). Not imported by the app."""
