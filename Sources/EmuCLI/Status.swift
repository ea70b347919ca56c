import ArgumentParser
import EmuCore

extension Emu {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sinks, their newest snapshots and ages, and what changed in the source since.",
            discussion: """
                For each sink: online or offline, its newest snapshot and its age, and how many \
                paths of the source were added, deleted or changed since (a summary of `emu \
                diff`). A warning when a sink's newest complete snapshot is older than \
                status.max-age (`emu config status.max-age 3d`; 7 days by default).

                \(ExitStatus.help)
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let maxAge = try source.config()["status", "max-age"].map { try RetentionPolicy.parseDuration($0) } ?? 7 * 86400
            var rows: [[String: Any]] = []
            let now = Timestamp.now()
            for registration in try source.sinks() {
                var row: [String: Any] = ["sink": registration.name, "path": registration.path]
                guard let sink = try Sink.open(registration) else {
                    row["online"] = false
                    rows.append(row)
                    if !report.json { terminal.output("\(registration.name)\toffline\t\(registration.path)") }
                    continue
                }
                row["online"] = true
                let snapshots = try sink.snapshots()
                guard let newest = snapshots.last else {
                    rows.append(row)
                    if !report.json { terminal.output("\(registration.name)\tonline\tno snapshots yet") }
                    continue
                }
                // No lock (the SPEC): status never waits for, nor is refused by, a push under way;
                // the newest snapshot is published whole, so what it reads is whole too.
                let summary = try EmuCore.diff(from: try DiffSide.snapshot(newest, in: sink), to: try DiffSide.source(source)) { _ in }
                let changed = (summary.counts[.modified] ?? 0) + (summary.counts[.typeChanged] ?? 0) + (summary.counts[.metadata] ?? 0)
                let added = summary.counts[.added] ?? 0, deleted = summary.counts[.deleted] ?? 0, renamed = summary.counts[.renamed] ?? 0
                row["newest"] = newest.id
                row["newest_date"] = newest.date.iso8601
                row["age_seconds"] = now.seconds - newest.date.seconds
                row["added"] = added
                row["deleted"] = deleted
                row["changed"] = changed
                row["renamed"] = renamed
                rows.append(row)
                if !report.json {
                    let since = added + deleted + changed + renamed == 0
                        ? "source unchanged since"
                        : "source changed since: \(added) added, \(deleted) deleted, \(changed) changed, \(renamed) renamed"
                    terminal.output("\(registration.name)\tonline\tnewest \(newest.date.displayText) (\(newest.date.age(at: now)))\t\(since)")
                }
                if let good = snapshots.last(where: { $0.status == .complete }) {
                    if now.seconds - good.date.seconds > maxAge {
                        terminal.warning("the newest complete snapshot in '\(registration.name)' is from \(good.date.age(at: now)); push soon")
                    }
                } else {
                    terminal.warning("'\(registration.name)' holds no complete snapshot")
                }
            }
            if report.json { terminal.json(rows) }
        }
    }
}
