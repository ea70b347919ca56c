import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

extension Emu {
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what changed: the source against a snapshot, or between two snapshots.",
            discussion: """
                No REF: the source against the default sink's HEAD. One REF: the source against \
                it. Two: REF1 to REF2. One line a path, sorted by path: A added, D deleted, \
                M content changed, T type changed, P metadata only (mode, owner, group, mtime, \
                xattrs, ACLs), R old new for content that moved. Between two snapshots only \
                their manifests are read, never their trees.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "[SINK:]SNAPSHOT to compare from (default: the default sink's HEAD).", completion: Completions.references)
        var from: String?

        @Argument(help: "[SINK:]SNAPSHOT to compare to (default: the source).", completion: Completions.references)
        var to: String?

        @Argument(parsing: .postTerminator, help: "Only these paths (after --).")
        var paths: [String] = []

        @Flag(help: "Counts and byte totals instead of one line a path.")
        var stat = false

        @Flag(help: "One line a path with its change letter (the default).")
        var nameStatus = false

        @Flag(help: "Exit with status 1 when there are differences, 0 when there are none (as git diff --exit-code).")
        var exitCode = false

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let scopes = try paths.map { try source.snapshotPath($0) }
            var sinks: [any SinkStore] = []
            func side(_ text: String) throws -> DiffSide {
                let resolved = try source.resolve(text)
                let sink = resolved.store
                try sink.lock(.shared, wait: 0)
                sinks.append(sink)
                return try DiffSide.snapshot(resolved.snapshot, in: sink)
            }
            let old = try side(from ?? "HEAD")
            let new = try to.map(side) ?? DiffSide.source(source)
            defer { sinks.forEach { $0.unlock() } }

            // -q/--quiet is git's `diff --quiet`: nothing printed, the answer in the status.
            let quiet = global.quiet
            var encodingFailure: Error? = nil
            let summary = try EmuCore.diff(from: old, to: new, within: scopes) { change in
                if stat || quiet { return }
                if report.json {
                    do { try terminal.json(ChangeJSON(change)) } catch { encodingFailure = encodingFailure ?? error }
                } else if let from = change.oldPath {
                    terminal.output("R\t\(from)\t\(change.path)")
                } else {
                    terminal.output("\(change.kind.rawValue)\t\(change.path)")
                }
            }
            if let encodingFailure { throw encodingFailure }
            for (path, why) in summary.unreadable { terminal.warning("could not read \(path): \(why)") }
            if stat && !quiet {
                let counts = ChangeCountsJSON(summary)
                if report.json {
                    try terminal.json(counts)
                } else {
                    terminal.output(ChangeKind.allCases.map { "\(summary.counts[$0] ?? 0) \(Self.name($0))" }.joined(separator: ", "))
                    terminal.output("+\(formatBytes(summary.bytesAdded)), -\(formatBytes(summary.bytesRemoved))")
                }
            }
            // As `git diff --exit-code`: 1 when something differs (--quiet implies it).
            if (exitCode || quiet) && !summary.isEmpty { throw ExitStatus.failure }
        }

        static func name(_ kind: ChangeKind) -> String {
            switch kind {
            case .added: "added"
            case .deleted: "deleted"
            case .modified: "modified"
            case .typeChanged: "type_changed"
            case .metadata: "metadata"
            case .renamed: "renamed"
            }
        }
    }
}
