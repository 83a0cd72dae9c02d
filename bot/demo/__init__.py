"""`butler demo`: the hub with fake platforms, demo data and the /sim simulator."""
