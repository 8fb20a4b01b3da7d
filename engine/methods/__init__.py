"""The stylization methods behind the Stylizer: the Method protocol, the feed-forward nets' runs, optimization."""
