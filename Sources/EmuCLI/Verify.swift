import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

extension Emu {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-read snapshots and compare them with their records; report every mismatch.",
            discussion: """
                Every file is read again and its SHA-256 compared with the manifest, and every \
                entry's type, size, mode, owner, mtime, xattrs, ACLs, symlink target and \
                hardlinks are checked; missing and extra files are named. A file shared by \
                many snapshots is read once. The result is recorded in each snapshot's record \
                and shown by `emu log`. Without arguments: every snapshot of every online sink.

                \(ExitStatus.help(.damaged, .locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "Snapshot references or sink names.", completion: Completions.referencesAndSinks)
        var references: [String] = []

        @Option(help: ArgumentHelp("Read only about PCT percent of the files (chosen at random); metadata is checked for all.", valueName: "PCT"))
        var sample: Double = 100

        @Flag(help: "Show the progress line even when stderr is not a terminal.")
        var progress = false

        @Option(help: ArgumentHelp("Instead of re-reading: list the files whose newest version is on fewer than N sinks.", valueName: "N"))
        var redundancy: Int?

        func validate() throws {
            guard sample > 0 && sample <= 100 else { throw ValidationError("--sample takes a percentage above 0 and at most 100") }
            if let redundancy, redundancy < 1 { throw ValidationError("--redundancy takes a number of sinks, 1 or more") }
            if redundancy != nil && (!references.isEmpty || sample != 100) {
                throw ValidationError("--redundancy compares the newest snapshot of every online sink: it takes no references and no --sample")
            }
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source(orSinkIn: references)
            if let redundancy { return try checkRedundancy(redundancy, source: source, terminal: terminal) }
            let targets = try self.targets(in: source, terminal: terminal)
            let total = targets.reduce(Int64(0)) { $0 + $1.snapshot.counts.bytes }
            let observer = VerifyReporter(terminal: terminal, json: report.json,
                                          progress: ProgressLine(enabled: ProgressLine.decide(terminal: terminal, forced: progress)), total: total)
            var damaged = 0
            var locked: Set<String> = []
            var read = (files: 0, bytes: Int64(0))
            var verifiers: [String: SinkVerifier] = [:]
            func verifier(of target: ResolvedSnapshot) -> SinkVerifier {
                if let made = verifiers[target.registration.name] { return made }
                let made = target.store.verifier(samplePercent: sample, observer: observer)
                verifiers[target.registration.name] = made
                return made
            }
            var document = VerifyJSON(snapshots: [], indexes: [], filesRead: 0, bytesRead: 0, clean: true)
            for target in targets {
                if locked.insert(target.registration.name).inserted { try target.store.lock(.shared, wait: 0) }
                observer.begin(target)
                // Read where the data is: over ssh, only the findings cross the channel.
                let found = try verifier(of: target).verify(target.snapshot, reportingAs: target.snapshot)
                let damages = found.damages
                read = (read.files + found.filesRead, read.bytes + found.bytesRead)
                ProgressLine.clear()
                if !damages.isEmpty { damaged += 1 }
                document.snapshots.append(VerifiedSnapshotJSON(snapshot: SnapshotJSON(target.snapshot, sink: target.registration.name),
                                                               damage: observer.damages.map(DamageJSON.init), notVerified: observer.notVerified))
                let label = "\(target.registration.name):\(target.snapshot.name) (\(target.snapshot.shortID))"
                if !report.json {
                    terminal.info(damages.isEmpty ? "\(label): clean" : terminal.paint("\(label): \(plural(damages.count, "problem"))", .red))
                }
            }
            // Whole sinks verified: their HEAD and content indexes too.
            if references.isEmpty || references.allSatisfy({ (try? source.sink(named: $0)) != nil }) {
                damaged += try verifySinkMetadata(of: targets, verifier: verifier, observer: observer, into: &document, terminal: terminal)
            }
            let (filesRead, bytesRead) = read
            if report.json {
                document.filesRead = filesRead
                document.bytesRead = bytesRead
                document.clean = damaged == 0
                try terminal.json(document)
            } else {
                terminal.info("verified \(plural(targets.count, "snapshot")), read \(plural(filesRead, "file")) (\(formatBytes(bytesRead)))")
            }
            if damaged > 0 { throw ExitStatus.damaged }
        }

        /// The snapshots named, or every snapshot of every online sink (an offline one is named and skipped).
        func targets(in source: Source, terminal: Terminal) throws -> [ResolvedSnapshot] {
            guard references.isEmpty else { return try source.resolveMany(references) }
            var targets: [ResolvedSnapshot] = []
            for registration in try source.sinks() {
                guard let sink = try source.openSink(registration) else {
                    terminal.warning("sink '\(registration.name)' at \(registration.path) is offline; skipped")
                    continue
                }
                targets += try sink.snapshots().map { ResolvedSnapshot(registration: registration, store: sink, snapshot: $0) }
            }
            return targets
        }

        /// Each sink's HEAD and content index; returns how many sinks have problems there.
        func verifySinkMetadata(of targets: [ResolvedSnapshot], verifier: (ResolvedSnapshot) -> SinkVerifier, observer: VerifyReporter,
                                into document: inout VerifyJSON, terminal: Terminal) throws -> Int {
            var damaged = 0
            for target in Dictionary(grouping: targets, by: \.registration.name).values.compactMap(\.first) {
                observer.begin(target)
                let found = try verifier(target).verify(nil, reportingAs: target.snapshot)
                let (problems, unheld) = (found.damages.count, found.unheld)
                document.indexes.append(VerifiedIndexJSON(sink: target.registration.name, problems: problems, unheld: unheld,
                                                         damage: observer.damages.map(DamageJSON.init)))
                if unheld > 0 && !report.json {
                    terminal.info("\(target.registration.name): content index: \(unheld) entr\(unheld == 1 ? "y" : "ies") no snapshot holds (left by an interrupted command; the next push or `emu clean` removes them)")
                }
                if problems > 0 {
                    damaged += 1
                    if !report.json { terminal.info(terminal.paint("\(target.registration.name): metadata and content index: \(plural(problems, "problem"))", .red)) }
                }
            }
            return damaged
        }
    }
}

/// Prints each damage as it is found (collects it with --json), and the progress line.
final class VerifyReporter: VerifyObserver {
    let terminal: Terminal
    let json: Bool
    let progress: ProgressLine
    let total: Int64
    var current: ResolvedSnapshot?
    var damages: [Damage] = []
    var notVerified: String?
    /// Said once: a user who may only read the sink keeps no result in it.
    var saidNotRecorded = false

    init(terminal: Terminal, json: Bool, progress: ProgressLine, total: Int64) {
        self.terminal = terminal
        self.json = json
        self.progress = progress
        self.total = total
    }

    func begin(_ target: ResolvedSnapshot) {
        current = target
        damages = []
        notVerified = nil
    }

    func found(_ damage: Damage, in snapshot: Snapshot) {
        if json {
            damages.append(damage)
        } else {
            terminal.output("\(current?.registration.name ?? ""):\(snapshot.shortID): \(damage)")
        }
    }

    func notRecorded(_ snapshot: Snapshot) {
        guard !saidNotRecorded else { return }
        saidNotRecorded = true
        terminal.info("the results are not kept in the sink's records: this user may only read it (verify reports them all the same)")
    }

    func skipped(_ snapshot: Snapshot, because reason: String) {
        notVerified = reason
        terminal.warning("\(current?.registration.name ?? ""):\(snapshot.shortID) not verified: \(reason)")
    }

    func progressed(files: Int, bytes: Int64) {
        progress.update(files: files, bytes: bytes, total: ProgressTotal(bytes: total))
    }
}

extension Emu.Verify {
    /// `--redundancy N`: the files of the newest state that fewer than N sinks hold.
    func checkRedundancy(_ required: Int, source: Source, terminal: Terminal) throws {
        var newest: [NewestSnapshot] = []
        for registration in try source.sinks() {
            guard let store = try source.openSink(registration) else {
                terminal.warning("sink '\(registration.name)' at \(registration.path) is offline; its copies are not counted")
                continue
            }
            try store.lock(.shared, wait: 0)
            if let snapshot = try store.snapshots().last { newest.append(NewestSnapshot(sink: registration.name, store: store, snapshot: snapshot)) }
        }
        var (checked, short) = (0, 0)
        try countCopies(newest) { copies in
            checked += 1
            guard copies.sinks.count < required else { return }
            short += 1
            if report.json { return try terminal.json(CopiesJSON(copies)) }
            terminal.output("\(copies.sinks.count)\t\(Printable.path(copies.record.path.bytes))\t\(copies.sinks.joined(separator: ","))")
        }
        // The last line, always: a clean answer is an answer, not silence.
        if report.json { try terminal.json(RedundancySummaryJSON(required: required, filesChecked: checked, filesShort: short)) }
        else { terminal.info("\(short) of \(plural(checked, "file")) in the newest snapshot are on fewer than \(plural(required, "sink"))") }
        if short > 0 { throw ExitStatus.failure }
    }
}
