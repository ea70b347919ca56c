import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

/// One run of pushes and how it reports, whoever started it (`emu push`,
/// `emu watch`): each sink's push under the source's shared lock, its
/// hooks, its lines and its JSON, and the exit status the outcomes give.
struct PushRun {
    let context: CommandContext
    var dryRun = false
    var printsJSON = false
    /// `--progress`: the progress line even when stderr is not a terminal.
    var forcesProgress = false
    var quiet = false
    /// The user named the sinks: a read-only one is then an error, not a skip.
    var namedSinks = false
    /// `--skip-if-unchanged`, which a dry run's line mentions.
    var skipsIfUnchanged = false

    /// Pushes to each sink in turn; the outcomes, or the exit status they give.
    func run(_ chosen: [SinkRegistration], options: PushOptions, lockWait: Double) throws -> [PushJSON] {
        let sourceLock = try context.source.lock(.shared, wait: lockWait)
        defer { _ = sourceLock }
        var outcomes: [PushJSON] = []
        var failures: [EmuError.Kind] = []
        for registration in chosen {
            let outcome = pushOne(registration, options: options)
            if let kind = outcome.failure { failures.append(kind) }
            outcomes.append(outcome.json)
        }
        if printsJSON { try context.terminal.json(PushListJSON(pushes: outcomes)) }
        if let kind = failures.first { throw ExitStatus(failures.allSatisfy { $0 == kind } ? kind : .failed) }
        if !outcomes.contains(where: \.online) {
            throw EmuError.failed("no sink was online; nothing was pushed", fix: "mount a sink, or check the paths with `emu sink`")
        }
        if outcomes.contains(where: { $0.snapshot?.status == Snapshot.Status.incomplete.rawValue }) { throw ExitStatus.partial }
        return outcomes
    }

    /// One sink's push, its hooks, and what it reports.
    func pushOne(_ registration: SinkRegistration, options: PushOptions) -> (json: PushJSON, failure: EmuError.Kind?) {
        let (terminal, source, hooks) = (context.terminal, context.source, context.hooks)
        var json = PushJSON(sink: registration.name, online: false, dryRun: dryRun)
        do {
            guard let store = try source.openSink(registration) else {
                terminal.warning("sink '\(registration.name)' at \(registration.path) is offline; skipped")
                if !dryRun {
                    context.runErrorHooks(sink: registration.name, path: registration.path, status: "offline",
                                          message: "the sink is offline")
                }
                return (json, nil)
            }
            json.online = true
            if store.mode == .readOnly {
                // Not a failed push, and not remembered as one: this key may only read.
                terminal.info("sink '\(registration.name)' is read-only (the server's key may only read); skipped")
                json.error = "read-only"
                return (json, namedSinks ? .usage : nil)
            }
            let observer = PushReporter(terminal: terminal, dryRun: dryRun, listsPlans: dryRun && !printsJSON,
                                        progress: ProgressLine(enabled: ProgressLine.decide(terminal: terminal, forced: forcesProgress)))
            var environment = ["EMU_SINK": registration.name, "EMU_SINK_PATH": registration.path, "EMU_SOURCE": source.path,
                               "EMU_SNAPSHOT": "", "EMU_STATUS": "starting"]
            if !dryRun { try hooks.run(.pre, environment: environment) }
            let result = try Interruption.during(registration.name, of: source) { try store.push(source, options: options, observer: observer) }
            store.endSession()
            ProgressLine.clear()
            if let snapshot = result.snapshot {
                try? PushRecord.clearFailure(of: registration.name, in: source)
                try? PushedRecord.record(snapshot, to: registration.name, in: source)
                environment["EMU_SNAPSHOT"] = snapshot.id
                environment["EMU_STATUS"] = snapshot.status.rawValue
                for warning in try hooks.run(.post, environment: environment) { terminal.warning(warning) }
            } else if let newest = result.unchangedSince {
                try? PushRecord.clearFailure(of: registration.name, in: source)
                try? PushedRecord.record(newest, to: registration.name, in: source, confirmedAt: Timestamp.now())
                (environment["EMU_SNAPSHOT"], environment["EMU_STATUS"]) = (newest.id, "unchanged")
                for warning in try hooks.run(.post, environment: environment) { terminal.warning(warning) }
            }
            describe(result, sink: registration, into: &json)
            if !printsJSON && !quiet { summarize(result, sink: registration, terminal: terminal) }
            return (json, nil)
        } catch {
            let failure = (error as? EmuError) ?? (error as? FileSystemError).map { EmuError($0) } ?? EmuError.failed("\(error)")
            ProgressLine.clear()
            terminal.error("sink '\(registration.name)': \(failure.message)", fix: failure.fix)
            json.error = failure.message
            // A push another emu's lock turned away did not fail: it did not run.
            if !dryRun && failure.kind != .locked {
                // A cut connection is an interruption: the server keeps what arrived for the next push.
                let message = (failure.interruptedPush ? PushRecord.interrupted : "") + failure.message
                try? PushRecord.recordFailure(of: registration.name, in: source, message: message)
                context.runErrorHooks(sink: registration.name, path: registration.path, status: "failed", message: failure.message)
            }
            return (json, failure.kind)
        }
    }

    func describe(_ result: PushResult, sink: SinkRegistration, into json: inout PushJSON) {
        let c = result.counts
        json.snapshot = result.snapshot.map { SnapshotJSON($0, sink: sink.name, uniqueBytes: $0.uniqueBytes, head: true) }
        json.files = c.files
        json.directories = c.directories
        json.bytes = c.bytes
        json.filesCopied = c.filesCopied
        json.filesLinked = c.filesLinked
        json.bytesCopied = c.bytesCopied
        json.skipped = c.skipped
        json.expired = result.expired.map { SnapshotJSON($0, sink: sink.name) }
        json.unchangedSince = result.unchangedSince.map { SnapshotJSON($0, sink: sink.name, head: true) }
    }

    /// The result line, on stdout as restic prints its summary.
    func summarize(_ result: PushResult, sink: SinkRegistration, terminal: Terminal) {
        let c = result.counts
        let held = "\(plural(c.files, "file")), \(formatBytes(c.bytes))"
        if let newest = result.unchangedSince {
            terminal.output("\(sink.name): nothing changed since snapshot \(terminal.paint(newest.name, .yellow, forOutput: true)) (\(newest.shortID)): \(held); no snapshot made (--skip-if-unchanged)")
        } else if let snapshot = result.snapshot {
            let status = snapshot.status == .incomplete ? terminal.paint(" INCOMPLETE: \(c.skipped) skipped", .red, forOutput: true) : ""
            terminal.output("\(sink.name): snapshot \(terminal.paint(snapshot.name, .yellow, forOutput: true)) (\(snapshot.shortID)): \(held); copied \(c.filesCopied) (\(formatBytes(c.bytesCopied))), linked \(c.filesLinked)\(status)")
        } else {
            let unless = skipsIfUnchanged ? " (none with --skip-if-unchanged if nothing changed: the push decides when it ends)" : ""
            terminal.output("\(sink.name): dry run, nothing written: the snapshot would hold \(held)\(unless); would copy \(c.filesCopied) (\(formatBytes(c.bytesCopied))), link \(c.filesLinked)")
        }
        terminal.detail(String(format: "%@: walk and copy %.3fs, sync and publish %.3fs", sink.name, result.walkSeconds, result.publishSeconds))
    }
}
