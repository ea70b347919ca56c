import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

extension Emu {
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List snapshots, newest first.",
            discussion: """
                Without arguments, the default sink's snapshots. A sink name lists all of that \
                sink's snapshots; a reference lists that one snapshot. As in git: -N or -n N \
                shows the N newest, --oneline is --short, --since and --until take dates \
                (2026-11-01, "2 days ago", yesterday), --grep keeps snapshots whose message \
                matches a regular expression. With -- PATH, a file's history: the snapshots where \
                something at or below PATH changed, each saying what (added, modified, metadata only, \
                renamed, deleted, with the version's size and mtime; a deletion names the snapshot \
                holding the last version); --all lists every snapshot. "Unique" is the bytes of file content only that \
                snapshot holds: what pruning it would free. On a terminal the listing goes \
                through a pager ($PAGER, else less); --no-pager prints it directly.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "Snapshot references or sink names; after --, a path: only the snapshots where it changed.",
                  completion: Completions.referencesAndSinks)
        var arguments: [String] = []

        @Option(name: [.customShort("n"), .customLong("max-count")], help: "Show at most N snapshots (also -N).")
        var count: Int?

        @Flag(name: [.customLong("short"), .customLong("oneline")], help: "One line per snapshot.")
        var short = false

        @Option(help: ArgumentHelp("Only snapshots at or after DATE.", valueName: "DATE"))
        var since: String?

        @Option(help: ArgumentHelp("Only snapshots at or before DATE.", valueName: "DATE"))
        var until: String?

        @Option(help: ArgumentHelp("Only snapshots whose message matches PATTERN (a regular expression).", valueName: "PATTERN"))
        var grep: String?

        @Flag(help: "Do not page the output.")
        var noPager = false

        @Flag(help: "With -- PATH: every snapshot, also those that did not change PATH.")
        var all = false

        @Flag(help: "Merge the histories of every online sink, newest first (each line names its sink).")
        var allSinks = false

        func validate() throws {
            if let count, count < 0 { throw ValidationError("-n takes a count of 0 or more") }
            for (option, value) in [("--since", since), ("--until", until)] {
                if let value, Timestamp.parse(value) == nil {
                    throw ValidationError("\(option) '\(value)' is not a date: use 2026-11-01, '2026-11-01 12:00', yesterday or '2 days ago'")
                }
            }
            if all && split.paths.isEmpty {
                throw ValidationError("--all lists every snapshot of a path's history; give the path after --, as in `emu log --all -- notes.txt`")
            }
            if let grep, (try? Regex(grep)) == nil {
                throw ValidationError("--grep '\(grep)' is not a regular expression")
            }
        }

        /// The references, and the paths given after `--` (argument-parser
        /// files both into one list; the raw command line tells them apart).
        var split: (references: [String], paths: [String]) {
            let raw = EmuMain.arguments
            guard let terminator = raw.firstIndex(of: "--") else { return (arguments, []) }
            let count = min(raw.count - terminator - 1, arguments.count)
            return (Array(arguments.dropLast(count)), Array(arguments.suffix(count)))
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source(orSinkIn: arguments)
            var (references, pathTexts) = split
            if allSinks {
                guard references.isEmpty else {
                    throw EmuError.usage("--all-sinks lists every sink's snapshots; it takes no references", fix: "drop either")
                }
                references = try onlineSinkNames(source, terminal: terminal)
            }
            var entries: [ResolvedSnapshot]
            if references.isEmpty && !allSinks {
                let registration = try source.defaultSink()
                let sink = try source.openOnlineSink(registration)
                entries = try sink.snapshots().map { ResolvedSnapshot(registration: registration, store: sink, snapshot: $0) }
                if entries.isEmpty && !report.json { throw Self.holdsNothing(registration.name) }
            } else {
                entries = try source.resolveMany(references)
                for name in references where entries.allSatisfy({ $0.registration.name != name }) && (try? source.sink(named: name)) != nil {
                    // A sink named on purpose must hold something; one of --all-sinks need not.
                    if allSinks { terminal.info("sink '\(name)' holds no snapshots yet") } else if !report.json { throw Self.holdsNothing(name) }
                }
            }
            let paths = try pathTexts.map { try source.snapshotPath($0) }
            entries = selected(entries, limited: paths.isEmpty)
            let printer = LogPrinter(terminal: terminal, entries: entries)
            if !paths.isEmpty { return try printHistory(FileHistoryLog(printer: printer, history: FileHistory(scopes: paths), all: all, count: count)) }
            if report.json { return try printer.printJSON() }
            if !noPager { Pager.start(terminal: terminal) }
            short ? printer.printShort() : printer.printLong()
        }

        /// A log of a sink with no snapshot fails, as `git log` of a branch
        /// with no commit and emu 0.2.5 do (`--json` prints the empty list).
        static func holdsNothing(_ sink: String) -> EmuError {
            EmuError.failed("sink '\(sink)' holds no snapshots yet", fix: "make one with `emu push \(sink)`")
        }

        /// The sinks `--all-sinks` reads; an offline one is named on stderr.
        func onlineSinkNames(_ source: Source, terminal: Terminal) throws -> [String] {
            var names: [String] = []
            for registration in try source.sinks() {
                if (try? source.openSink(registration)) != nil { names.append(registration.name) }
                else { terminal.warning("sink '\(registration.name)' at \(registration.path) is offline; its snapshots are not listed") }
            }
            return names
        }

        func printHistory(_ log: FileHistoryLog) throws {
            let steps = try log.steps()
            if report.json { return try log.printJSON(steps) }
            if !noPager { Pager.start(terminal: log.terminal) }
            short ? log.printShort(steps) : log.printLong(steps)
        }

        /// The entries the filters keep, newest first, at most `count` when `limited`
        /// (a path's history counts the snapshots where the path changed instead).
        func selected(_ entries: [ResolvedSnapshot], limited: Bool) -> [ResolvedSnapshot] {
            var entries = entries
            if let since, let from = Timestamp.parse(since) { entries = entries.filter { $0.snapshot.date >= from } }
            if let until, let to = Timestamp.parse(until, dayEnd: true) { entries = entries.filter { $0.snapshot.date <= to } }
            if let grep, let pattern = try? Regex(grep) { entries = entries.filter { $0.snapshot.message.contains(pattern) } }
            entries.sort { ($0.snapshot.date, $0.snapshot.id) > ($1.snapshot.date, $1.snapshot.id) }
            if limited, let count { entries = Array(entries.prefix(count)) }
            return entries
        }
    }
}
