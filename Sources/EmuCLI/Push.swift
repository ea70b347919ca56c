import ArgumentParser
import EmuCore
import EmuPOSIX

extension Emu {
    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new snapshot in each named sink, or in every online sink.",
            discussion: """
                A file whose size, mtime, ctime and inode match the newest snapshot's record \
                is a hardlink to that snapshot's copy and is not read; any other is copied and \
                its SHA-256 recorded. The snapshot appears only when all its data is on disk. \
                An unreadable file is skipped and named; the snapshot is then recorded as \
                incomplete and the exit status is 3. An offline sink is skipped.

                \(ExitStatus.help)
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "Sinks to push to (default: every online sink).", completion: Completions.sinks)
        var sinks: [String] = []

        @Option(name: .shortAndLong, help: "A message recorded with the snapshot.")
        var message: String = ""

        @Option(help: ArgumentHelp("Exclude paths matching PATTERN for this push (excludes syntax; repeatable).", valueName: "PATTERN"))
        var exclude: [String] = []

        @Flag(name: [.customShort("x"), .customLong("one-file-system")], help: "Do not cross into other filesystems.")
        var oneFileSystem = false

        @Flag(help: "Compare file contents, not only metadata, to decide what changed.")
        var checksum = false

        @Option(help: ArgumentHelp("Record DATE instead of now: 'YYYY-MM-DD HH:MM[:SS]', 'YYYY-MM-DD' or @SECONDS (local time).", valueName: "DATE"))
        var date: String?

        @Flag(name: .shortAndLong, help: "With --date: record a date after this machine's clock (a local sink only: a server's clock decides there).")
        var force = false

        @Flag(help: "Show the progress line even when stderr is not a terminal.")
        var progress = false

        @Option(name: .customLong("exclude-from"), help: ArgumentHelp("Read exclude rules from FILE (excludes syntax; repeatable).", valueName: "FILE"))
        var excludeFrom: [String] = []

        @Option(name: .customLong("files-from"), help: ArgumentHelp("Snapshot only the paths FILE lists, one a line (and the directories above them).", valueName: "FILE"))
        var filesFrom: [String] = []

        @Flag(help: "Leave out directories that hold a CACHEDIR.TAG (bford.info/cachedir).")
        var excludeCaches = false

        func validate() throws {
            if let date, Timestamp.parse(date) == nil {
                throw ValidationError("--date '\(date)' is not a date: use 'YYYY-MM-DD HH:MM[:SS]', 'YYYY-MM-DD' or @SECONDS")
            }
            if force && date == nil { throw ValidationError("--force goes with --date: it allows a date after this machine's clock") }
        }

        func run() throws { try run(adjusting: { _ in }) }

        /// The push, with its options adjusted by the caller (`emu watch` names the directories that changed).
        func run(adjusting adjust: (inout PushOptions) -> Void) throws {
            let context = try global.context(for: "push")
            let (terminal, source) = (context.terminal, context.source)
            let chosen: [SinkRegistration]
            let options: PushOptions
            do {
                chosen = try chosenSinks(of: source, terminal: terminal)
                var adjusted = try pushOptions(source: source)
                adjust(&adjusted)
                options = adjusted
            } catch {
                // The push failed before it began: its .error hooks still hear of it.
                if !change.dryRun { context.runErrorHooks(sink: sinks.joined(separator: " "), path: "", failure: error) }
                throw error
            }
            let sourceLock = try source.lock(.shared, wait: change.lockWait)
            defer { _ = sourceLock }
            var outcomes: [PushJSON] = []
            var failures: [EmuError.Kind] = []
            for registration in chosen {
                let outcome = pushOne(registration, options: options, context: context)
                if let kind = outcome.failure { failures.append(kind) }
                outcomes.append(outcome.json)
            }
            if report.json { try terminal.json(PushListJSON(pushes: outcomes)) }
            if let kind = failures.first { throw ExitStatus(failures.allSatisfy { $0 == kind } ? kind : .failed) }
            if !outcomes.contains(where: \.online) {
                throw EmuError.failed("no sink was online; nothing was pushed", fix: "mount a sink, or check the paths with `emu sink`")
            }
            if outcomes.contains(where: { $0.snapshot?.status == Snapshot.Status.incomplete.rawValue }) { throw ExitStatus.partial }
        }

        func chosenSinks(of source: Source, terminal: Terminal) throws -> [SinkRegistration] {
            let all = try source.sinks()
            guard !all.isEmpty else {
                throw EmuError.usage("this source has no sinks to push to", fix: "add one with `emu sink add NAME PATH`")
            }
            guard sinks.isEmpty else { return try sinks.map { try source.sink(named: $0) } }
            // A sink whose key may only read is no push's: said once, not failed every hour.
            let readOnly = all.filter(source.isReadOnly)
            if !readOnly.isEmpty {
                terminal.info("skipped \(readOnly.map { "'\($0.name)'" }.joined(separator: ", ")): read-only (the server's key may only read)")
            }
            return all.filter { !source.isReadOnly($0) }
        }

        func pushOptions(source: Source) throws -> PushOptions {
            var options = PushOptions()
            options.message = message
            options.excludes = exclude
            for file in excludeFrom {
                options.excludes += try readListFile(file, option: "--exclude-from").filter { !$0.hasPrefix("#") }
            }
            if !filesFrom.isEmpty {
                options.onlyPaths = try filesFrom.flatMap { try readListFile($0, option: "--files-from") }.map { try source.snapshotPath($0) }
            }
            options.excludeCaches = excludeCaches
            options.oneFileSystem = oneFileSystem
            options.checksum = checksum
            options.date = date.flatMap { Timestamp.parse($0) }
            options.allowsFutureDate = force
            options.dryRun = change.dryRun
            options.lockWait = change.lockWait
            return options
        }

        /// One sink's push, its hooks, and what it reports.
        func pushOne(_ registration: SinkRegistration, options: PushOptions, context: CommandContext) -> (json: PushJSON, failure: EmuError.Kind?) {
            let (terminal, source, hooks) = (context.terminal, context.source, context.hooks)
            var json = PushJSON(sink: registration.name, online: false, dryRun: change.dryRun)
            do {
                guard let store = try source.openSink(registration) else {
                    terminal.warning("sink '\(registration.name)' at \(registration.path) is offline; skipped")
                    if !change.dryRun {
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
                    return (json, sinks.isEmpty ? nil : .usage)
                }
                // The newest snapshot's size estimates the total, for the ETA.
                let estimate = try? store.snapshots().last?.counts.bytes
                let observer = PushReporter(terminal: terminal, dryRun: change.dryRun, listsPlans: change.dryRun && !report.json,
                                            progress: ProgressLine(enabled: ProgressLine.decide(terminal: terminal, forced: progress)),
                                            total: estimate ?? nil)
                var environment = ["EMU_SINK": registration.name, "EMU_SINK_PATH": registration.path, "EMU_SOURCE": source.path,
                                   "EMU_SNAPSHOT": "", "EMU_STATUS": "starting"]
                if !change.dryRun { try hooks.run(.pre, environment: environment) }
                let result = try store.push(source, options: options, observer: observer)
                ProgressLine.clear()
                if let snapshot = result.snapshot {
                    try? PushRecord.clearFailure(of: registration.name, in: source)
                    try? PushedRecord.record(snapshot, to: registration.name, in: source)
                    environment["EMU_SNAPSHOT"] = snapshot.id
                    environment["EMU_STATUS"] = snapshot.status.rawValue
                    for warning in try hooks.run(.post, environment: environment) { terminal.warning(warning) }
                }
                describe(result, sink: registration, into: &json)
                if !report.json && !global.quiet { summarize(result, sink: registration, terminal: terminal) }
                return (json, nil)
            } catch {
                let failure = (error as? EmuError) ?? (error as? FileSystemError).map { EmuError($0) } ?? EmuError.failed("\(error)")
                ProgressLine.clear()
                terminal.error("sink '\(registration.name)': \(failure.message)", fix: failure.fix)
                json.error = failure.message
                // A push another emu's lock turned away did not fail: it did not run.
                if !change.dryRun && failure.kind != .locked {
                    try? PushRecord.recordFailure(of: registration.name, in: source, message: failure.message)
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
        }

        /// The result line, on stdout as restic prints its summary.
        func summarize(_ result: PushResult, sink: SinkRegistration, terminal: Terminal) {
            let c = result.counts
            let held = "\(plural(c.files, "file")), \(formatBytes(c.bytes))"
            if let snapshot = result.snapshot {
                let status = snapshot.status == .incomplete ? terminal.paint(" INCOMPLETE: \(c.skipped) skipped", .red, forOutput: true) : ""
                terminal.output("\(sink.name): snapshot \(terminal.paint(snapshot.name, .yellow, forOutput: true)) (\(snapshot.shortID)): \(held); copied \(c.filesCopied) (\(formatBytes(c.bytesCopied))), linked \(c.filesLinked)\(status)")
            } else {
                terminal.output("\(sink.name): dry run, nothing written: the snapshot would hold \(held); would copy \(c.filesCopied) (\(formatBytes(c.bytesCopied))), link \(c.filesLinked)")
            }
            terminal.detail(String(format: "%@: walk and copy %.3fs, sync and publish %.3fs", sink.name, result.walkSeconds, result.publishSeconds))
        }
    }
}

/// The lines of a list file given to an option (`--exclude-from`,
/// `--files-from`), blank ones left out; `-` is standard input.
func readListFile(_ path: String, option: String) throws -> [String] {
    let bytes: [UInt8]
    do {
        bytes = try readUserFile(path)
    } catch let error as FileSystemError {
        throw EmuError.usage("\(option) \(path.quotedForDisplay): \(error)", fix: "give a file that exists and can be read")
    }
    return bytes.split(separator: 0x0A).map { String(fileSystemBytes: $0) }.filter { !$0.allSatisfy(\.isWhitespace) }
}

/// Prints what a push does: skipped files always, reasons for copies with
/// -v (or -n), and the progress line.
final class PushReporter: PushObserver {
    let terminal: Terminal
    let dryRun: Bool
    /// A dry run without --json lists each file it would copy on stdout.
    let listsPlans: Bool
    let progress: ProgressLine
    let total: Int64?

    init(terminal: Terminal, dryRun: Bool, listsPlans: Bool, progress: ProgressLine, total: Int64?) {
        self.terminal = terminal
        self.dryRun = dryRun
        self.listsPlans = listsPlans
        self.progress = progress
        self.total = total
    }

    func skipped(_ path: RelativePath, because error: Error) {
        let reason = (error as? FileSystemError).map { "\($0.operation): \($0.errno)" } ?? "\(error)"
        terminal.warning("skipped \(path.isRoot ? "." : path.description): \(reason)")
    }

    func noted(_ path: RelativePath, _ message: String) {
        terminal.info("emu: \(path): \(message)")
    }

    func copied(_ path: RelativePath, reason: CopyReason, bytes: Int64) {
        if listsPlans {
            terminal.output("would copy (\(reason.rawValue)) \(path)")
        } else if !dryRun {
            terminal.detail("copied (\(reason.rawValue)) \(path)")
        }
    }

    func progressed(files: Int, bytes: Int64) {
        progress.update(files: files, bytes: bytes, total: total)
    }

    func reused(_ path: RelativePath, bytes: Int64) {
        terminal.detail("\(dryRun ? "would link" : "linked") (content the sink holds) \(path)")
    }

    func warned(_ message: String) {
        terminal.warning(message)
    }

    func expired(_ snapshot: Snapshot, _ reasons: [String]) {
        terminal.info("removed snapshot \(snapshot.name) (\(snapshot.shortID)): \(reasons.joined(separator: "; "))")
    }
}
