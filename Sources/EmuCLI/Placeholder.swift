import EmuCore
