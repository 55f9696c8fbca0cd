print("imanage-emulator: not built yet")
