import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

extension Emu {
    struct SinkCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sink",
            abstract: "List, add, remove sinks, and choose the default one.",
            discussion: ExitStatus.help(),
            subcommands: [List.self, Add.self, Remove.self, Default.self],
            defaultSubcommand: List.self)
    }
}

extension Emu.SinkCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List sinks: name, path, online or offline, snapshots, newest, free space.",
            discussion: ExitStatus.help())

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let registrations = try source.sinks()
            let defaultName = (try? source.defaultSink())?.name
            var rows: [SinkJSON] = []
            var lines: [(sink: String, date: Timestamp?, text: String)] = []
            var gaps = SinkGaps()
            for registration in registrations {
                let marker = registration.name == defaultName ? "*" : " "
                let shown = registration.path.quotedForDisplay
                // A remote sink that cannot be reached is offline too; why is said on stderr.
                let opened: (any SinkStore)?
                do { opened = try source.openSink(registration) } catch let error as EmuError where registration.remote != nil {
                    if !report.json { terminal.warning("sink '\(registration.name)': \(error.message)") }
                    opened = nil
                }
                var row = SinkJSON(registration, online: opened != nil, isDefault: registration.name == defaultName)
                guard let sink = opened else {
                    rows.append(row)
                    let text = "\(marker) \(registration.name)\t\(shown)\t" + terminal.paint("offline", .yellow, forOutput: true)
                    lines.append((registration.name, PushedRecord.newest(of: registration.name, in: source), text))
                    continue
                }
                let snapshots = try sink.snapshots()
                gaps.add(registration.name, snapshots)
                row.snapshots = snapshots.count
                row.newest = snapshots.last.map { SnapshotJSON($0, sink: registration.name) }
                let space = sink.space()
                row.freeBytes = space?.free
                row.totalBytes = space?.total
                rows.append(row)
                // An empty sink says so once, not "0 snapshots" and "no snapshots".
                let held = snapshots.last.map { "\(plural(snapshots.count, "snapshot"))\tnewest \($0.name)" } ?? "no snapshots"
                let free = space.map { "\(formatBytes($0.free)) free" } ?? ""
                lines.append((registration.name, snapshots.last?.date, "\(marker) \(registration.name)\t\(shown)\tonline\t\(held)\t\(free)"))
            }
            let freshness = SinkFreshness(lines.map { ($0.sink, $0.date) })
            for (i, line) in lines.enumerated() {
                rows[i].behindSeconds = freshness.behind(line.date)
                rows[i].lacks = gaps.lacks(line.sink)
                if !report.json { terminal.output(line.text + "\t" + freshness.describe(line.date)) }
            }
            if !report.json { gaps.lines.forEach(terminal.output) }
            if report.json { try terminal.json(SinkListJSON(sinks: rows)) }
            else if registrations.isEmpty { terminal.info("no sinks; add one with `emu sink add NAME PATH`") }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a sink at PATH (made if missing) and register it as NAME.",
            discussion: """
                An existing emu sink at PATH is attached, not wiped. A filesystem that cannot \
                hardlink (FAT, exFAT, some network mounts) is refused. PATH may be on another \
                machine, as ssh://user@host[:port]/path or user@host:path: emu reaches it with \
                ssh and runs `emu serve` there.

                \(ExitStatus.help())
                """)

        @OptionGroup var global: GlobalOptions

        @OptionGroup var change: ChangeOptions

        @Argument(help: "The sink's name: letters, digits, '.', '_' and '-'.")
        var name: String

        @Argument(help: "Where the sink's snapshots live: a local directory, or ssh://user@host[:port]/path or user@host:path.",
                  completion: .directory)
        var path: String

        @Option(help: ArgumentHelp("For a remote sink: the ssh command (sink.NAME.ssh-command; default: ssh -o BatchMode=yes).",
                                   valueName: "COMMAND"))
        var sshCommand: String?

        @Option(help: ArgumentHelp("For a remote sink: the emu to run on the server (sink.NAME.remote-emu; default: emu).",
                                   valueName: "PATH"))
        var remoteEmu: String?

        @Flag(name: .shortAndLong, help: "Make a sink in a directory that is not empty.")
        var force = false

        @Flag(help: "Take over a sink that holds another source's snapshots (this machine before a reinstall): they become this source's history.")
        var adopt = false

        func validate() throws {
            guard SinkName.isValid(name) else {
                throw ValidationError("'\(name)' is not a valid sink name: use letters, digits, '.', '_' and '-', starting with a letter or digit (not HEAD or TAIL)")
            }
            let location = SinkLocation(path)
            if case .unreachable = location {
                throw ValidationError("'\(path)' looks like a remote address, but emu reaches remote sinks over ssh only, as ssh://user@host[:port]/path or user@host:path; for a local name with a colon, write it as ./\(path)")
            }
            if (sshCommand != nil || remoteEmu != nil) && location.remote == nil {
                throw ValidationError("--ssh-command and --remote-emu are for a remote sink (ssh://user@host/path or user@host:path)")
            }
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let existing = try source.sinks()
            if existing.contains(where: { $0.name == name }) {
                throw EmuError.usage("a sink named '\(name)' already exists", fix: "choose another name, or remove it first with `emu sink rm \(name)`")
            }
            if let address = SinkLocation(path).remote { return try addRemote(address, source: source, existing: existing, terminal: terminal) }
            let absolute = absolutePath(path)
            if let other = existing.first(where: { $0.path == absolute }) ?? Emu.SinkCommand.sameDirectoryOf(absolute, among: existing) {
                // Two names of one sink would make two snapshots a push, and each name's retention expire the other's.
                throw EmuError.usage("\(absolute) is already the sink '\(other.name)'\(other.path == absolute ? "" : " (at \(other.path))")",
                                     fix: "use that sink's name")
            }
            // A missing directory cannot hold the source; an existing one must not.
            if let resolved = resolvedPath(absolute), isPath(source.path, within: resolved) {
                throw EmuError.usage("the source \(source.path) would lie inside the sink \(absolute)", fix: "put the sink outside the source directory")
            }
            let plan = try Sink.plannedCreation(at: absolute, force: force)
            let shown = absolute.quotedForDisplay
            let adopted = try plan == .attach && admit(try Sink.openOnline(SinkRegistration(name: name, path: absolute)), source: source)
            if change.dryRun {
                switch plan {
                case .attach: terminal.output("would \(adopted ? "take over" : "attach") the existing sink at \(shown) as '\(name)'")
                case .create(let directories):
                    for directory in directories { terminal.output("would create directory \(directory.quotedForDisplay)") }
                    terminal.output("would make a sink at \(shown) and register it as '\(name)'")
                }
                return
            }
            _ = try Sink.create(at: absolute)
            try source.register(SinkRegistration(name: name, path: absolute))
            switch plan {
            case .attach: terminal.info(adopted ? "Took over the sink '\(name)' at \(shown): its snapshots are this source's history now"
                                                : "Attached existing sink '\(name)' at \(shown)")
            case .create(let directories):
                for directory in directories { terminal.info("Created directory \(directory.quotedForDisplay)") }
                terminal.info("Created sink '\(name)' at \(shown)")
            }
        }
    }

    /// The registered local sink that is the directory at `path` by another
    /// path (a symlink, a bind mount): the same device and inode.
    static func sameDirectoryOf(_ path: String, among existing: [SinkRegistration]) -> SinkRegistration? {
        guard let status = statusFollowingLinks(path) else { return nil }
        return existing.first { registration in
            registration.remote == nil && statusFollowingLinks(registration.path).map { ($0.device, $0.inode) == (status.device, status.inode) } == true
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Forget a sink; its snapshots stay where they are.",
            discussion: ExitStatus.help())

        @OptionGroup var global: GlobalOptions

        @OptionGroup var change: ChangeOptions

        @Argument(help: "The sink to forget.", completion: Completions.sinks)
        var name: String

        func run() throws {
            let source = try global.source()
            let registration = try source.sink(named: name)
            if change.dryRun {
                global.terminal.output("would forget sink '\(name)' (its data stays at \(registration.path))")
                return
            }
            let wasDefault = (try? source.config()["emu", "default-sink"]) == name
            try source.unregister(name)
            global.terminal.info("Removed sink '\(name)'; its data stays at \(registration.path.quotedForDisplay)")
            if wasDefault {
                // Said, not silent: later commands without a sink name act on another sink now.
                let next = (try? source.config()["emu", "default-sink"]).flatMap { $0 }
                global.terminal.info(next.map { "The default sink is now '\($0)' (`emu sink default NAME` to choose another)" }
                                     ?? "No sink is left to be the default")
            }
        }
    }

    struct Default: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make NAME the sink that commands use when none is named.",
            discussion: ExitStatus.help())

        @OptionGroup var global: GlobalOptions

        @OptionGroup var change: ChangeOptions

        @Argument(help: "The sink to use by default.", completion: Completions.sinks)
        var name: String

        func run() throws {
            let source = try global.source()
            if change.dryRun {
                _ = try source.sink(named: name)
                global.terminal.output("would make '\(name)' the default sink")
                return
            }
            try source.setDefaultSink(name)
            global.terminal.info("Default sink is now '\(name)'")
        }
    }
}
