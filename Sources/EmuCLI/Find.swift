import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

extension Emu {
    struct Find: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every snapshot that holds a path matching a pattern, with its size and date.",
            discussion: """
                Patterns are globs in the excludes syntax (emu-push(1)): a pattern without `/` \
                matches a name at any depth (`'*.odt'`), one with `/` matches whole trailing \
                components (`'docs/*.odt'`), a leading `/` anchors it at the source root, a \
                trailing `/` matches directories only, and `**` crosses directories. Quote \
                patterns so the shell leaves them alone. A path matches when any pattern does. \
                Every online sink is searched, unless --sink names some; snapshots are read \
                oldest first, one manifest at a time. Output: one line per match, \
                `SINK:SNAPSHOT  DATE  SIZE  PATH`; with --json, JSON Lines (one object per \
                match). The exit status is 1 when nothing matched.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "Glob patterns (excludes syntax).")
        var patterns: [String] = []

        @Option(name: .customLong("sink"), help: ArgumentHelp("Search only SINK (repeatable).", valueName: "SINK"),
                completion: Completions.sinks)
        var sinks: [String] = []

        func validate() throws {
            if patterns.isEmpty { throw ValidationError("name a pattern to look for, such as '*.odt' or 'docs/report.txt'") }
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let rules = try ExcludeRules(patterns: patterns)
            var found = 0
            for registration in try searched(source, terminal: terminal) {
                guard let store = try source.openSink(registration) else {
                    terminal.warning("sink '\(registration.name)' at \(registration.path) is offline; not searched")
                    continue
                }
                for snapshot in try store.snapshots() {
                    let records = try store.openRecords(snapshot)
                    while let record = try records.next() {
                        guard !record.path.isRoot, rules.isExcluded(record.path, isDirectory: record.kind == .directory) else { continue }
                        found += 1
                        try show(record, in: snapshot, sink: registration.name, terminal: terminal)
                    }
                }
            }
            if found == 0 {
                if !report.json { terminal.info("no snapshot holds a path matching \(patterns.joined(separator: " or "))") }
                throw ExitStatus.failure
            }
        }

        func searched(_ source: Source, terminal: Terminal) throws -> [SinkRegistration] {
            if !sinks.isEmpty { return try sinks.map { try source.sink(named: $0) } }
            let all = try source.sinks()
            guard !all.isEmpty else {
                throw EmuError.usage("this source has no sinks to search", fix: "add one with `emu sink add NAME PATH`")
            }
            return all
        }

        func show(_ record: ManifestRecord, in snapshot: Snapshot, sink: String, terminal: Terminal) throws {
            if report.json {
                return try terminal.json(FoundJSON(record, snapshot: snapshot, sink: sink))
            }
            let size = record.kind == .regular ? formatBytes(record.size) : record.kind.typeName
            terminal.output("\(sink):\(snapshot.name)\t\(snapshot.date.displayText)\t\(size)\t\(Printable.path(record.path.bytes))")
        }
    }
}
