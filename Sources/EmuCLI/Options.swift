import ArgumentParser
import EmuCore

enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("S"), .customLong("source-dir")],
            help: ArgumentHelp("The source directory (default: the nearest at or above the working directory that holds .emu/).", valueName: "DIR"))
    var sourceDirectory: String?

    @Flag(name: .shortAndLong, help: "Say more: why each file was copied, how long each phase took.")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Say only what went wrong.")
    var quiet = false

    @Option(help: "Colour the output: auto, always or never.")
    var color: ColorChoice = .auto

    var terminal: Terminal { Terminal(verbose: verbose, quiet: quiet, color: color) }

    func source() throws -> Source { try Source.locate(explicit: sourceDirectory) }
}

/// Options of commands that change a sink or the source.
struct ChangeOptions: ParsableArguments {
    @Flag(name: [.customShort("n"), .customShort("d"), .customLong("dry-run")], help: "Change nothing; print what would be done.")
    var dryRun = false

    @Option(name: .customLong("lock-wait"), help: ArgumentHelp("Wait this long for another emu's lock instead of failing with status 5.", valueName: "SECONDS"))
    var lockWait: Double = 0

    func validate() throws {
        guard lockWait >= 0 else { throw ValidationError("--lock-wait takes a number of seconds, 0 or more") }
    }
}

/// Options of commands that report.
struct ReportOptions: ParsableArguments {
    @Flag(help: "Print one JSON document with stable keys.")
    var json = false
}
