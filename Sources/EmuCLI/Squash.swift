import ArgumentParser
import EmuCore
import EmuRecords
import EmuRemote

extension Emu {
    struct Squash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep only the named snapshots of their sink; delete every other.",
            discussion: """
                As in emu 0.2.5. Each sink named in the references keeps exactly the named \
                snapshots; the rest are deleted as `emu prune` deletes them.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "[SINK:]SNAPSHOT references to keep.", completion: Completions.references)
        var references: [String]

        func run() throws {
            let terminal = global.terminal
            let source = try global.source(orSinkIn: references)
            let kept = try references.map { try source.resolve($0) }
            var removed: [SnapshotJSON] = []
            for (_, group) in Dictionary(grouping: kept, by: \.registration.name).sorted(by: { $0.key < $1.key }) {
                let sink = group[0].store
                let keep = Set(group.map(\.snapshot.id))
                let doomed = try sink.snapshots().filter { !keep.contains($0.id) }
                try EmuCore.prune(doomed, in: sink, dryRun: change.dryRun, lockWait: change.lockWait) { snapshot in
                    removed.append(SnapshotJSON(snapshot, sink: sink.name))
                    guard !report.json else { return }
                    let line = "\(sink.name): \(change.dryRun ? "would delete" : "deleted") snapshot \(snapshot.name) (\(snapshot.shortID))"
                    if change.dryRun { terminal.output(line) } else { terminal.detail(line) }
                }
                if !report.json {
                    terminal.info("\(sink.name): kept \(plural(keep.count, "snapshot")), \(change.dryRun ? "would delete" : "deleted") \(doomed.count)")
                }
            }
            if report.json { try terminal.json(SnapshotListJSON(snapshots: removed, dryRun: change.dryRun)) }
        }
    }
}
