"""The notify domain: what to tell whom, when and how. No I/O beyond reading the package's
own message catalogues."""
