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

        @Argument(help: "Sinks to push to (default: every online sink).")
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

        @Flag(help: "Show the progress line even when stderr is not a terminal.")
        var progress = false

        func validate() throws {
            if let date, Timestamp.parse(date) == nil {
                throw ValidationError("--date '\(date)' is not a date: use 'YYYY-MM-DD HH:MM[:SS]', 'YYYY-MM-DD' or @SECONDS")
            }
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let all = try source.sinks()
            guard !all.isEmpty else {
                throw EmuError.usage("this source has no sinks to push to", fix: "add one with `emu sink add NAME PATH`")
            }
            let chosen = try sinks.isEmpty ? all : sinks.map { try source.sink(named: $0) }
            var options = PushOptions()
            options.message = message
            options.excludes = exclude
            options.oneFileSystem = oneFileSystem
            options.checksum = checksum
            options.date = date.flatMap { Timestamp.parse($0) }
            options.dryRun = change.dryRun
            options.lockWait = change.lockWait

            let sourceLock = try source.lock(.shared, wait: change.lockWait)
            defer { _ = sourceLock }
            var pushed = 0
            var failures: [EmuError.Kind] = []
            var incomplete = false
            var results: [[String: Any]] = []
            for registration in chosen {
                guard let sink = try Sink.open(registration) else {
                    terminal.warning("sink '\(registration.name)' at \(registration.path) is offline; skipped")
                    results.append(["sink": registration.name, "online": false])
                    continue
                }
                // The newest snapshot's size estimates the total, for the ETA.
                let estimate = try? sink.snapshots().last?.counts.bytes
                let observer = PushReporter(terminal: terminal, dryRun: change.dryRun,
                                            progress: ProgressLine(enabled: ProgressLine.decide(terminal: terminal, forced: progress)),
                                            total: estimate ?? nil)
                let hooks = Hooks(source: source, command: "push")
                var environment = ["EMU_SINK": registration.name, "EMU_SINK_PATH": registration.path, "EMU_SOURCE": source.path,
                                   "EMU_SNAPSHOT": "", "EMU_STATUS": "starting"]
                do {
                    if !change.dryRun { try hooks.run(.pre, environment: environment) }
                    let result = try EmuCore.push(source, to: sink, options: options, observer: observer)
                    if let snapshot = result.snapshot {
                        environment["EMU_SNAPSHOT"] = snapshot.id
                        environment["EMU_STATUS"] = snapshot.status.rawValue
                        for warning in try hooks.run(.post, environment: environment) { terminal.warning(warning) }
                    }
                    ProgressLine.clear()
                    pushed += 1
                    results.append(describe(result, sink: registration))
                    if result.snapshot?.status == .incomplete { incomplete = true }
                    if !report.json { summarize(result, sink: registration, terminal: terminal) }
                } catch {
                    let failure = (error as? EmuError) ?? (error as? FileSystemError).map { EmuError($0) } ?? EmuError.failed("\(error)")
                    ProgressLine.clear()
                    terminal.error("sink '\(registration.name)': \(failure.message)", fix: failure.fix)
                    failures.append(failure.kind)
                    if !change.dryRun {
                        environment["EMU_STATUS"] = "failed"
                        environment["EMU_ERROR"] = failure.message
                        for warning in (try? hooks.run(.error, environment: environment)) ?? [] { terminal.warning(warning) }
                    }
                }
            }
            if report.json { terminal.json(["pushes": results]) }
            if let kind = failures.first { throw ExitStatus(failures.allSatisfy { $0 == kind } ? kind : .failed) }
            if pushed == 0 {
                throw EmuError.failed("no sink was online; nothing was pushed", fix: "mount a sink, or check the paths with `emu sink`")
            }
            if incomplete { throw ExitStatus.partial }
        }

        func describe(_ result: PushResult, sink: SinkRegistration) -> [String: Any] {
            var row: [String: Any] = [
                "sink": sink.name, "online": true, "dry_run": result.snapshot == nil,
                "files": result.counts.files, "directories": result.counts.directories, "bytes": result.counts.bytes,
                "files_copied": result.counts.filesCopied, "files_linked": result.counts.filesLinked,
                "bytes_copied": result.counts.bytesCopied, "skipped": result.counts.skipped,
            ]
            if let snapshot = result.snapshot {
                row["id"] = snapshot.id
                row["name"] = snapshot.name
                row["date"] = snapshot.date.iso8601
                row["status"] = snapshot.status.rawValue
            }
            return row
        }

        func summarize(_ result: PushResult, sink: SinkRegistration, terminal: Terminal) {
            let c = result.counts
            let what = "\(c.files) files, \(formatBytes(c.bytes)); copied \(c.filesCopied) (\(formatBytes(c.bytesCopied))), linked \(c.filesLinked)"
            if let snapshot = result.snapshot {
                let status = snapshot.status == .incomplete ? terminal.paint(" INCOMPLETE: \(c.skipped) skipped", .red) : ""
                terminal.info("\(sink.name): snapshot \(terminal.paint(snapshot.name, .yellow)) (\(snapshot.shortID)): \(what)\(status)")
            } else {
                terminal.info("\(sink.name): dry run, nothing written: would hold \(what)")
            }
            terminal.detail(String(format: "%@: walk and copy %.3fs, sync and publish %.3fs", sink.name, result.walkSeconds, result.publishSeconds))
        }
    }
}

/// Prints what a push does: skipped files always, reasons for copies with
/// -v (or -n), and the progress line.
final class PushReporter: PushObserver {
    let terminal: Terminal
    let dryRun: Bool
    let progress: ProgressLine
    let total: Int64?

    init(terminal: Terminal, dryRun: Bool, progress: ProgressLine, total: Int64?) {
        self.terminal = terminal
        self.dryRun = dryRun
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
        if dryRun {
            terminal.output("would copy (\(reason.rawValue)) \(path)")
        } else {
            terminal.detail("copied (\(reason.rawValue)) \(path)")
        }
    }

    func progressed(files: Int, bytes: Int64) {
        progress.update(files: files, bytes: bytes, total: total)
    }

    func reused(_ path: RelativePath, bytes: Int64) {
        terminal.detail("linked (content the sink holds) \(path)")
    }

    func warned(_ message: String) {
        terminal.warning(message)
    }

    func expired(_ snapshot: Snapshot, _ reasons: [String]) {
        terminal.info("removed snapshot \(snapshot.name) (\(snapshot.shortID)): \(reasons.joined(separator: "; "))")
    }
}
