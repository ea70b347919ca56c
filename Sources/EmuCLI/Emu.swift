import ArgumentParser
import EmuCore
import EmuRecords
import EmuRemote

/// The root command: git-like subcommands, options after the command.
struct Emu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emu",
        abstract: "Rotating, hardlinked, browsable snapshots of a directory.",
        discussion: """
            emu keeps full snapshots of a source directory in one or more sinks. Each \
            snapshot is a plain directory tree; files that did not change are hardlinks \
            to the copy the sink already holds.

            \(ExitStatus.help)
            """,
        version: emuVersion,
        subcommands: [Init.self, SinkCommand.self, Push.self, Log.self, Diff.self, Show.self, Checkout.self, Prune.self, Verify.self, Status.self, Find.self, Export.self, Import.self, Schedule.self, Timeline.self, Watch.self, Squash.self, Replicate.self, Mount.self, Umount.self, Clean.self, Config.self, Serve.self])
}
