print("imanage-tokend: not built yet")
