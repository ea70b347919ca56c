import EmuPOSIX
