import ArgumentParser
import EmuCore
import EmuPOSIX
import Foundation

extension Emu {
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List snapshots, newest first.",
            discussion: """
                Without arguments, the default sink's snapshots. A sink name lists all of that \
                sink's snapshots; a reference lists that one snapshot.

                \(ExitStatus.help)
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "Snapshot references or sink names; after --, a path: only the snapshots where it changed.")
        var arguments: [String] = []

        @Option(name: [.customShort("n"), .customLong("max-count")], help: "Show at most N snapshots.")
        var count: Int?

        @Flag(help: "One line per snapshot.")
        var short = false

        func validate() throws {
            if let count, count < 0 { throw ValidationError("-n takes a count of 0 or more") }
        }

        /// The references, and the paths given after `--` (argument-parser
        /// files both into one list; the raw command line tells them apart).
        var split: (references: [String], paths: [String]) {
            let raw = CommandLine.arguments
            guard let terminator = raw.firstIndex(of: "--") else { return (arguments, []) }
            let count = min(raw.count - terminator - 1, arguments.count)
            return (Array(arguments.dropLast(count)), Array(arguments.suffix(count)))
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let (references, pathTexts) = split
            var entries: [ResolvedSnapshot]
            if references.isEmpty {
                let registration = try source.defaultSink()
                let sink = try Sink.openOnline(registration)
                entries = try sink.snapshots().map { ResolvedSnapshot(registration: registration, sink: sink, snapshot: $0) }
            } else {
                entries = try source.resolveMany(references)
            }
            if !pathTexts.isEmpty {
                let paths = try pathTexts.map { try source.snapshotPath($0) }
                entries = try changes(at: paths, among: entries)
            }
            entries.sort { ($0.snapshot.date, $0.snapshot.id) > ($1.snapshot.date, $1.snapshot.id) }
            if let count { entries = Array(entries.prefix(count)) }
            var heads: [String: String] = [:]
            for entry in entries where heads[entry.registration.name] == nil {
                heads[entry.registration.name] = try entry.sink.headID() ?? ""
            }
            if report.json {
                terminal.json(entries.map { entry -> [String: Any] in
                    let s = entry.snapshot
                    return ["sink": entry.registration.name, "id": s.id, "name": s.name, "date": s.date.iso8601,
                            "parent": s.parent ?? NSNull(), "status": s.status.rawValue, "message": s.message,
                            "files": s.counts.files, "directories": s.counts.directories, "bytes": s.counts.bytes,
                            "files_copied": s.counts.filesCopied, "bytes_copied": s.counts.bytesCopied,
                            "skipped": s.counts.skipped, "head": heads[entry.registration.name] == s.id,
                            "verified": s.verification.map { $0 == "CLEAN" ? "clean" : "damaged" } ?? NSNull(),
                            "unique_bytes": uniqueBytes(of: entry, terminal) ?? NSNull()]
                })
                return
            }
            for entry in entries {
                let s = entry.snapshot
                let isHead = heads[entry.registration.name] == s.id
                let status = s.status == .complete ? "complete" : terminal.paint("incomplete (\(s.counts.skipped) skipped)", .red, forOutput: true)
                if short {
                    let unique = uniqueBytes(of: entry, terminal).map { "  \(formatBytes($0)) unique" } ?? ""
                    var line = "\(terminal.paint(s.shortID, .yellow, forOutput: true))  \(s.date.displayText)  \(s.counts.files) files  \(formatBytes(s.counts.bytes))\(unique)  \(status)"
                    if !s.message.isEmpty { line += "  \(s.message)" }
                    terminal.output(line)
                    continue
                }
                let decoration = "(\(entry.registration.name)\(isHead ? ", HEAD" : ""))"
                terminal.output(terminal.paint("snapshot \(s.id)", .yellow, forOutput: true) + " " + decoration)
                terminal.output("Date:     \(s.date.displayText)  (\(s.date.age()))")
                terminal.output("Name:     \(s.name)")
                terminal.output("Files:    \(s.counts.files) files, \(s.counts.directories) directories, \(formatBytes(s.counts.bytes))")
                terminal.output("Stored:   \(s.counts.filesCopied) copied (\(formatBytes(s.counts.bytesCopied))), \(s.counts.filesLinked) linked")
                if let unique = uniqueBytes(of: entry, terminal) {
                    terminal.output("Unique:   \(formatBytes(unique)) (what pruning it would free)")
                }
                terminal.output("Status:   \(status)")
                if let verification = s.verification {
                    let state = verification == "CLEAN" ? "clean" : terminal.paint("DAMAGED", .red, forOutput: true)
                    terminal.output("Verified: \(state)\(s.lastVerified.map { " (\($0))" } ?? "")")
                }
                if !s.message.isEmpty { terminal.output("\n    \(s.message)") }
                terminal.output("")
            }
        }

        /// What pruning the snapshot frees; nil when unknown. A damaged
        /// manifest is reported and the listing goes on.
        func uniqueBytes(of entry: ResolvedSnapshot, _ terminal: Terminal) -> Int64? {
            do {
                return try entry.sink.uniqueBytes(of: entry.snapshot)
            } catch {
                terminal.warning("snapshot \(entry.snapshot.name) (\(entry.snapshot.shortID)) in '\(entry.registration.name)': \(error); `emu verify` says what is damaged, `emu clean --repair` rebuilds the manifest")
                return nil
            }
        }

        /// The snapshots in which something at or below one of `paths` differs
        /// from the next older snapshot of the same sink (its first appearance
        /// included): a file's history.
        func changes(at paths: [RelativePath], among entries: [ResolvedSnapshot]) throws -> [ResolvedSnapshot] {
            var result: [ResolvedSnapshot] = []
            for (_, group) in Dictionary(grouping: entries, by: \.registration.name) {
                var previous: [ContentHash?] = paths.map { _ in nil }
                for entry in group.sorted(by: { ($0.snapshot.date, $0.snapshot.id) < ($1.snapshot.date, $1.snapshot.id) }) {
                    let digests = try paths.map { try entry.sink.digest(of: $0, in: entry.snapshot) }
                    if digests != previous { result.append(entry) }
                    previous = digests
                }
            }
            return result
        }
    }
}
