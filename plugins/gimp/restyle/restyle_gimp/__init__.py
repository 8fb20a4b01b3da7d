"""The GIMP plug-in's logic, importable without GIMP: formats, regions, pixels, requests, settings."""
