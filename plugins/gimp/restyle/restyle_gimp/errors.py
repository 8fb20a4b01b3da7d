"""The one exception the plug-in shows the user: its message says what went wrong and what to do."""
from __future__ import annotations


class PluginError(Exception):
    """A problem the user can fix; ``str()`` is the whole message shown in GIMP."""
