import ArgumentParser
import EmuCore

extension Emu {
    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete snapshots.",
            discussion: """
                Each snapshot disappears in one rename of its record, then its tree is deleted; \
                a deletion cut short is finished by the next command that locks the sink. \
                Deleting HEAD moves HEAD to the newest snapshot that remains. Files shared \
                with other snapshots stay with them.

                \(ExitStatus.help)
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions

        @Argument(help: "[SINK:]SNAPSHOT references to delete.")
        var references: [String]

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let names = try source.sinks().map(\.name)
            if let bare = references.first(where: { names.contains($0) }) {
                throw EmuError.usage("'\(bare)' names a whole sink; `emu prune SINK` applies a retention policy, which this version does not have yet",
                                     fix: "name the snapshots to delete, e.g. `emu prune \(bare):TAIL`")
            }
            let resolved = try references.map { try source.resolve($0) }
            let bySink = Dictionary(grouping: resolved, by: \.registration.name)
            for (_, group) in bySink.sorted(by: { $0.key < $1.key }) {
                let sink = group[0].sink
                var seen = Set<String>()
                let doomed = group.map(\.snapshot).filter { seen.insert($0.id).inserted }
                try EmuCore.prune(doomed, in: sink, dryRun: change.dryRun, lockWait: change.lockWait) { snapshot in
                    let line = "\(sink.name): \(change.dryRun ? "would delete" : "deleted") snapshot \(snapshot.name) (\(snapshot.shortID))"
                    if change.dryRun { terminal.output(line) } else { terminal.info(line) }
                }
            }
        }
    }
}
