import ArgumentParser
import EmuCore
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

        @Argument(help: "Snapshot references or sink names.")
        var references: [String] = []

        @Option(name: [.customShort("n"), .customLong("max-count")], help: "Show at most N snapshots.")
        var count: Int?

        @Flag(help: "One line per snapshot.")
        var short = false

        func validate() throws {
            if let count, count < 0 { throw ValidationError("-n takes a count of 0 or more") }
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            var entries: [ResolvedSnapshot]
            if references.isEmpty {
                let registration = try source.defaultSink()
                let sink = try Sink.openOnline(registration)
                entries = try sink.snapshots().map { ResolvedSnapshot(registration: registration, sink: sink, snapshot: $0) }
            } else {
                entries = try source.resolveMany(references)
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
                            "verified": s.verification.map { $0 == "CLEAN" ? "clean" : "damaged" } ?? NSNull()]
                })
                return
            }
            for entry in entries {
                let s = entry.snapshot
                let isHead = heads[entry.registration.name] == s.id
                let status = s.status == .complete ? "complete" : terminal.paint("incomplete (\(s.counts.skipped) skipped)", .red, forOutput: true)
                if short {
                    var line = "\(terminal.paint(s.shortID, .yellow, forOutput: true))  \(s.date.displayText)  \(s.counts.files) files  \(formatBytes(s.counts.bytes))  \(status)"
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
                terminal.output("Status:   \(status)")
                if let verification = s.verification {
                    let state = verification == "CLEAN" ? "clean" : terminal.paint("DAMAGED", .red, forOutput: true)
                    terminal.output("Verified: \(state)\(s.lastVerified.map { " (\($0))" } ?? "")")
                }
                if !s.message.isEmpty { terminal.output("\n    \(s.message)") }
                terminal.output("")
            }
        }
    }
}
