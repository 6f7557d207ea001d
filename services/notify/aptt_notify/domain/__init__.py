"""The notify domain: what to tell whom, when and how (`model`, `timing`). No I/O."""
