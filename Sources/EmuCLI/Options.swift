import ArgumentParser
import EmuCore
import EmuRecords
import EmuRemote

enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("S"), .customLong("source-dir")],
            help: ArgumentHelp("The source directory (default: the nearest at or above the working directory that holds .emu/).", valueName: "DIR"))
    var sourceDirectory: String?

    @Flag(name: .shortAndLong, help: "Say more: what the command did and why (a push and a checkout: why each file was copied).")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Say only what went wrong.")
    var quiet = false

    @Option(help: "Colour the output: auto, always or never.")
    var color: ColorChoice = .auto

    var terminal: Terminal { Terminal(verbose: verbose, quiet: quiet, color: color) }

    func source() throws -> Source { try Source.locate(explicit: sourceDirectory) }

    /// The source; where there is none, the sink one of `arguments` names by
    /// its path, alone (an administrator on the server: `emu prune /srv/emu/laptop`).
    func source(orSinkIn arguments: [String]) throws -> Source {
        do { return try source() } catch let error as EmuError where error.kind == .usage && sourceDirectory == nil {
            guard let alone = try Source.alone(sinkIn: arguments) else { throw error }
            return alone
        }
    }

    /// The terminal, the source and its hooks for `command`, made once.
    func context(for command: String) throws -> CommandContext {
        let source = try source()
        return CommandContext(terminal: terminal, source: source, hooks: Hooks(source: source, command: command))
    }
}

/// What a command that runs hooks works with once its options are read:
/// where its words go, the source it acts on, and that source's hooks.
struct CommandContext {
    let terminal: Terminal
    let source: Source
    let hooks: Hooks

    /// Runs the `.error` hooks of a failure, its words in the environment;
    /// a hook that fails is a warning (the failure is already being told).
    func runErrorHooks(sink: String, path: String, snapshot: String = "", status: String, message: String) {
        let environment = ["EMU_SINK": sink, "EMU_SINK_PATH": path, "EMU_SOURCE": source.path, "EMU_SNAPSHOT": snapshot,
                           "EMU_STATUS": status, "EMU_ERROR": message]
        for warning in (try? hooks.run(.error, environment: environment)) ?? [] { terminal.warning(warning) }
    }

    /// The `.error` hooks of a command that failed with `failure`.
    func runErrorHooks(sink: String, path: String, snapshot: String = "", failure: Error) {
        runErrorHooks(sink: sink, path: path, snapshot: snapshot, status: "failed", message: (failure as? EmuError)?.message ?? "\(failure)")
    }
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
