"""An engine module whose import raises."""

raise RuntimeError("this engine cannot be imported")
