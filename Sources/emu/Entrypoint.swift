import EmuCLI

EmuMain.run()
