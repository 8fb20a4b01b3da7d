"""Real-host tests: Krita and GIMP 3 inside a Debian 13 root (see docs/hosts.md)."""
