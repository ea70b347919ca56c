import ArgumentParser
import EmuCore
import EmuRecords
import EmuRemote

extension Emu {
    struct Clean: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove stale locks, staging leftovers and unreferenced data; --repair rebuilds metadata.",
            discussion: """
                Removes what interrupted commands left in a sink (staging and resume areas, \
                half-deleted snapshots, emu 0.2.5 lock files), records whose tree is gone, \
                trees and manifests without a record, and stale date links; HEAD and Latest \
                are set right. --repair also rebuilds, from the trees, manifests that are \
                missing or damaged, and records of trees whose manifest is whole. Without \
                arguments: every online sink.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "Sinks to clean (default: every online sink).", completion: Completions.sinks)
        var sinks: [String] = []

        @Flag(help: "Rebuild missing or damaged manifests and records from the trees.")
        var repair = false

        func run() throws {
            let terminal = global.terminal
            let source = try global.source(orSinkIn: sinks)
            let chosen = try sinks.isEmpty ? source.sinks() : sinks.map { try source.sink(named: $0) }
            var document = CleanJSON(sinks: [])
            for registration in chosen {
                guard let store = try source.openSink(registration) else {
                    terminal.warning("sink '\(registration.name)' at \(registration.path) is offline; skipped")
                    document.sinks.append(CleanedSinkJSON(sink: registration.name, online: false, dryRun: change.dryRun, actions: []))
                    continue
                }
                let sink = store
                try sink.lock(.exclusive, wait: change.lockWait)
                defer { sink.unlock() }
                var actions: [String] = []
                try sink.clean(repair: repair, dryRun: change.dryRun) { action in
                    actions.append("\(action)")
                    guard !report.json else { return }
                    let line = "\(registration.name): \(change.dryRun ? "would " : "")\(action)"
                    if change.dryRun { terminal.output(line) } else { terminal.info(line) }
                }
                if actions.isEmpty && !report.json { terminal.info("\(registration.name): clean") }
                document.sinks.append(CleanedSinkJSON(sink: registration.name, online: true, dryRun: change.dryRun, actions: actions))
            }
            if report.json { try terminal.json(document) }
        }
    }
}
