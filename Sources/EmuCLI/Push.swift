import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

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

                \(ExitStatus.help(.partial, .locked))
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

        @Flag(help: "Make no snapshot when nothing changed since the newest one (every entry, its metadata included), and say so.")
        var skipIfUnchanged = false

        func validate() throws {
            if let date, Timestamp.parse(date) == nil {
                throw ValidationError("--date '\(date)' is not a date: use 'YYYY-MM-DD HH:MM[:SS]', 'YYYY-MM-DD' or @SECONDS")
            }
            if force && date == nil { throw ValidationError("--force goes with --date: it allows a date after this machine's clock") }
        }

        func run() throws {
            if !change.dryRun { Interruption.announce(command: "the push") }
            let context = try global.context(for: "push")
            let (terminal, source) = (context.terminal, context.source)
            let chosen: [SinkRegistration]
            let options: PushOptions
            do {
                chosen = try chosenSinks(of: source, terminal: terminal)
                options = try pushOptions(source: source)
            } catch {
                // The push failed before it began: its .error hooks still hear of it.
                if !change.dryRun { context.runErrorHooks(sink: sinks.joined(separator: " "), path: "", failure: error) }
                throw error
            }
            let run = PushRun(context: context, dryRun: change.dryRun, printsJSON: report.json, forcesProgress: progress,
                              quiet: global.quiet, namedSinks: !sinks.isEmpty, skipsIfUnchanged: skipIfUnchanged)
            _ = try run.run(chosen, options: options, lockWait: change.lockWait)
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
            options.skipIfUnchanged = skipIfUnchanged
            options.oneFileSystem = oneFileSystem
            options.checksum = checksum
            options.date = date.flatMap { Timestamp.parse($0) }
            options.allowsFutureDate = force
            options.dryRun = change.dryRun
            options.lockWait = change.lockWait
            return options
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
class PushReporter: PushObserver {
    let terminal: Terminal
    let dryRun: Bool
    /// A dry run without --json lists each file it would copy on stdout.
    let listsPlans: Bool
    let progress: ProgressLine
    /// Estimated once the push knows the newest snapshot.
    var total: ProgressTotal? = nil

    init(terminal: Terminal, dryRun: Bool, listsPlans: Bool, progress: ProgressLine) {
        self.terminal = terminal
        self.dryRun = dryRun
        self.listsPlans = listsPlans
        self.progress = progress
    }

    /// The newest snapshot's counts estimate the total, for the percentage and ETA.
    func began(after newest: Snapshot?) {
        total = .estimate(from: newest)
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
