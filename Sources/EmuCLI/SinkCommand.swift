import ArgumentParser
import EmuCore

extension Emu {
    struct SinkCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sink",
            abstract: "List, add, remove sinks, and choose the default one.",
            discussion: ExitStatus.help,
            subcommands: [List.self, Add.self, Remove.self, Default.self],
            defaultSubcommand: List.self)
    }
}

extension Emu.SinkCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List sinks: name, path, online or offline, snapshots, newest, free space.",
            discussion: ExitStatus.help)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let registrations = try source.sinks()
            let defaultName = registrations.isEmpty ? nil : try source.defaultSink().name
            var rows: [[String: Any]] = []
            for registration in registrations {
                var row: [String: Any] = ["name": registration.name, "path": registration.path, "default": registration.name == defaultName]
                if let sink = try Sink.open(registration) {
                    let snapshots = try sink.snapshots()
                    row["online"] = true
                    row["snapshots"] = snapshots.count
                    if let newest = snapshots.last { row["newest"] = newest.date.iso8601; row["newest_id"] = newest.id }
                    if let space = sink.space() { row["free_bytes"] = space.free; row["total_bytes"] = space.total }
                    if !report.json {
                        let newest = snapshots.last.map { "newest \($0.date.displayText)" } ?? "no snapshots"
                        let free = sink.space().map { "\(formatBytes($0.free)) free" } ?? ""
                        let marker = registration.name == defaultName ? "*" : " "
                        terminal.output("\(marker) \(registration.name)\t\(registration.path)\tonline\t\(snapshots.count) snapshot(s)\t\(newest)\t\(free)")
                    }
                } else {
                    row["online"] = false
                    if !report.json {
                        let marker = registration.name == defaultName ? "*" : " "
                        terminal.output("\(marker) \(registration.name)\t\(registration.path)\t" + terminal.paint("offline", .yellow, forOutput: true))
                    }
                }
                rows.append(row)
            }
            if report.json { terminal.json(rows) }
            else if registrations.isEmpty { terminal.info("no sinks; add one with `emu sink add NAME PATH`") }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a sink at PATH (made if missing) and register it as NAME.",
            discussion: """
                An existing emu sink at PATH is attached, not wiped. A filesystem that cannot \
                hardlink (FAT, exFAT, some network mounts) is refused.

                \(ExitStatus.help)
                """)

        @OptionGroup var global: GlobalOptions

        @OptionGroup var change: ChangeOptions

        @Argument(help: "The sink's name: letters, digits, '.', '_' and '-'.")
        var name: String

        @Argument(help: "Where the sink's snapshots live.")
        var path: String

        func validate() throws {
            guard SinkName.isValid(name) else {
                throw ValidationError("'\(name)' is not a valid sink name: use letters, digits, '.', '_' and '-', starting with a letter or digit (not HEAD or TAIL)")
            }
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let absolute = absolutePath(path)
            let existing = try source.sinks()
            if existing.contains(where: { $0.name == name }) {
                throw EmuError.usage("a sink named '\(name)' already exists", fix: "choose another name, or remove it first with `emu sink rm \(name)`")
            }
            if let other = existing.first(where: { $0.path == absolute }) {
                throw EmuError.usage("\(absolute) is already the sink '\(other.name)'", fix: "use that sink's name")
            }
            // A missing directory cannot hold the source; an existing one must not.
            if let resolved = resolvedPath(absolute), isPath(source.path, within: resolved) {
                throw EmuError.usage("the source \(source.path) would lie inside the sink \(absolute)", fix: "put the sink outside the source directory")
            }
            if change.dryRun {
                let exists = resolvedPath(absolute + "/.emu/nodes") != nil
                terminal.output(exists ? "would attach the existing sink at \(absolute) as '\(name)'" : "would create a sink at \(absolute) and register it as '\(name)'")
                return
            }
            let created = try Sink.create(at: absolute)
            try source.register(SinkRegistration(name: name, path: absolute))
            terminal.info(created ? "Created sink '\(name)' at \(absolute)" : "Attached existing sink '\(name)' at \(absolute)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Forget a sink; its snapshots stay where they are.",
            discussion: ExitStatus.help)

        @OptionGroup var global: GlobalOptions

        @OptionGroup var change: ChangeOptions

        @Argument(help: "The sink to forget.")
        var name: String

        func run() throws {
            let source = try global.source()
            let registration = try source.sink(named: name)
            if change.dryRun {
                global.terminal.output("would forget sink '\(name)' (its data stays at \(registration.path))")
                return
            }
            try source.unregister(name)
            global.terminal.info("Removed sink '\(name)'; its data stays at \(registration.path)")
        }
    }

    struct Default: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make NAME the sink that commands use when none is named.",
            discussion: ExitStatus.help)

        @OptionGroup var global: GlobalOptions

        @OptionGroup var change: ChangeOptions

        @Argument(help: "The sink to use by default.")
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
