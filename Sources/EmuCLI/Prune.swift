import ArgumentParser
import EmuCore
import EmuRecords
import EmuRemote

extension Emu {
    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete snapshots, or apply a retention policy to a sink.",
            discussion: """
                With references: delete those snapshots. With a sink name: apply a retention \
                policy once — the flags given, else the sink's configured policy (`emu config \
                --sink NAME retention.keep-daily 7`; emu 0.3's rotation when none is set). The \
                newest snapshot is always kept. Buckets are calendar hours, days, ISO weeks, \
                months and years in local time; keep-daily 7 keeps the newest snapshot of each \
                of the 7 most recent days that have one. -n -v explains, per snapshot, which \
                rule keeps it or that none does.

                Each snapshot disappears in one rename of its record, then its tree is deleted; \
                a deletion cut short is finished by the next command that locks the sink. \
                Deleting HEAD moves HEAD to the newest snapshot that remains. Files shared \
                with other snapshots stay with them.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "[SINK:]SNAPSHOT references to delete, or one sink name.", completion: Completions.referencesAndSinks)
        var references: [String]

        @Option(help: "Keep the N newest snapshots.") var keepLast: String?
        @Option(help: "Keep the newest snapshot of each of the N most recent hours.") var keepHourly: String?
        @Option(help: "... of each of the N most recent days.") var keepDaily: String?
        @Option(help: "... of each of the N most recent ISO weeks.") var keepWeekly: String?
        @Option(help: "... of each of the N most recent months.") var keepMonthly: String?
        @Option(help: "... of each of the N most recent years.") var keepYearly: String?
        @Option(help: ArgumentHelp("Keep everything within DURATION of the newest (36h, 7d, 2w, 6mo, 1y).", valueName: "DURATION"))
        var keepWithin: String?
        @Option(help: ArgumentHelp("Then remove the oldest while the sink has less than PCT percent free.", valueName: "PCT"))
        var minFree: String?

        var givenPolicy: RetentionPolicy? {
            get throws {
                var policy = RetentionPolicy()
                var any = false
                func count(_ text: String?, _ name: String) throws -> Int? {
                    guard let text else { return nil }
                    any = true
                    return try RetentionPolicy.parseCount(text, option: "--" + name, spelled: { "--\(name) \($0)" })
                }
                policy.keepLast = try count(keepLast, "keep-last")
                policy.keepHourly = try count(keepHourly, "keep-hourly")
                policy.keepDaily = try count(keepDaily, "keep-daily")
                policy.keepWeekly = try count(keepWeekly, "keep-weekly")
                policy.keepMonthly = try count(keepMonthly, "keep-monthly")
                policy.keepYearly = try count(keepYearly, "keep-yearly")
                if let keepWithin { any = true; policy.keepWithin = try RetentionPolicy.parseDuration(keepWithin, spelled: { "--keep-within \($0)" }) }
                if let minFree { any = true; policy.minFreePercent = try RetentionPolicy.parsePercent(minFree, spelled: { "--min-free \($0)" }) }
                return any ? policy : nil
            }
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source(orSinkIn: references)
            let names = try source.sinks().map(\.name)
            let policy = try givenPolicy
            if references.count == 1, names.contains(references[0]) {
                let removed = try applyPolicy(policy, to: try source.sink(named: references[0]), of: source, terminal: terminal)
                if report.json { try terminal.json(SnapshotListJSON(snapshots: removed, dryRun: change.dryRun)) }
                return
            }
            if policy != nil, references.count == 1, !references[0].contains(":") {
                // Retention flags take a sink: a name that is none is an unknown sink, not a snapshot.
                _ = try source.sink(named: references[0])
            }
            if let bare = references.first(where: { names.contains($0) }) {
                throw EmuError.usage("'\(bare)' names a whole sink; give it alone to apply a retention policy",
                                     fix: "run `emu prune \(bare)` on its own, or name snapshots as \(bare):REF")
            }
            if policy != nil {
                throw EmuError.usage("retention flags apply to a sink, not to named snapshots", fix: "run `emu prune SINK --keep-...`")
            }
            let resolved: [ResolvedSnapshot]
            do { resolved = try references.map { try source.resolve($0) } } catch let error as EmuError where error.kind == .usage && !change.dryRun {
                // A prune cut short after a record left its tree half gone: finish that before saying nothing named is left.
                try finishCutDeletions(named: references, in: source)
                throw error
            }
            let bySink = Dictionary(grouping: resolved, by: \.registration.name)
            var removed: [SnapshotJSON] = []
            for (_, group) in bySink.sorted(by: { $0.key < $1.key }) {
                let sink = group[0].store
                var seen = Set<String>()
                let doomed = group.map(\.snapshot).filter { seen.insert($0.id).inserted }
                try EmuCore.prune(doomed, in: sink, dryRun: change.dryRun, lockWait: change.lockWait) { snapshot in
                    removed.append(SnapshotJSON(snapshot, sink: sink.name))
                    guard !report.json else { return }
                    let line = "\(sink.name): \(change.dryRun ? "would delete" : "deleted") snapshot \(snapshot.name) (\(snapshot.shortID))"
                    if change.dryRun { terminal.output(line) } else { terminal.info(line) }
                }
            }
            if report.json { try terminal.json(SnapshotListJSON(snapshots: removed, dryRun: change.dryRun)) }
        }

        /// Recovers the sinks `references` name (the default one for a bare
        /// snapshot), as every command that takes a sink's exclusive lock does.
        func finishCutDeletions(named references: [String], in source: Source) throws {
            let names = try source.sinks().map(\.name)
            let registrations = try Set(references.compactMap { try? SnapshotReference(parsing: $0, sinkNames: names) }
                .map { try source.sinkRegistration(for: $0).name })
            for name in registrations.sorted() {
                guard let sink = try? source.openOnlineSink(try source.sink(named: name)) else { continue }
                try sink.lock(.exclusive, wait: change.lockWait)
                defer { sink.unlock() }
                try sink.recover()
            }
        }

        /// Applies a policy (the given one, else the sink's) and returns what it removed (or would).
        func applyPolicy(_ given: RetentionPolicy?, to registration: SinkRegistration, of source: Source, terminal: Terminal) throws -> [SnapshotJSON] {
            let sink = try source.openOnlineSink(registration)
            try sink.lock(change.dryRun ? .shared : .exclusive, wait: change.lockWait)
            defer { sink.unlock() }
            if !change.dryRun { try sink.recover() }
            let policy = try given ?? sink.retentionPolicy()
            if (global.verbose || change.dryRun) && !report.json {
                for decision in policy.decide(try sink.snapshots()) {
                    let s = decision.snapshot
                    let verdict = decision.keep ? "keep  " : (change.dryRun ? "would remove" : "remove")
                    let why = decision.keep ? decision.reasons.joined(separator: ", ") : "no rule keeps it"
                    terminal.output("\(verdict) \(s.name) (\(s.shortID)): \(why)")
                }
            }
            let removed = try applyRetention(policy, to: sink, protecting: nil, dryRun: change.dryRun, warn: terminal.warning) { s, reasons in
                if global.verbose && !change.dryRun { terminal.detail("removed \(s.name) (\(s.shortID)): \(reasons.joined(separator: "; "))") }
            }
            if !report.json {
                terminal.info("\(registration.name): \(change.dryRun ? "would remove" : "removed") \(plural(removed.count, "snapshot"))")
            }
            return removed.map { SnapshotJSON($0, sink: registration.name) }
        }
    }
}
