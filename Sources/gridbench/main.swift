print("gridbench: not yet")
