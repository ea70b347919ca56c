import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

extension Emu {
    struct Replicate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the snapshots one sink holds and another lacks.",
            discussion: """
                FROM and TO are sink names of this source, sink paths, or ssh addresses; both \
                may be remote (the data then passes through this machine). Every snapshot FROM \
                holds and TO lacks (or the REFs named) is copied, oldest first, keeping its ID, \
                date, message and status. Each copy links every file unchanged since the newest \
                snapshot TO holds and takes content TO already holds from its content index, so \
                TO grows as if it had received the pushes itself. A snapshot TO holds already is \
                skipped: an ID names its content.

                A copy is a push in every safety rule: it appears whole or not at all, a copy cut \
                short is taken up by the next run, and a full TO fails cleanly. Nothing is ever \
                deleted from FROM. TO keeps its own retention: with --prune, only the snapshots \
                its policy keeps are copied, and its policy is applied afterwards. A TO path that \
                is not a sink yet becomes one when it is missing or empty.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "The sink copied from: a name, a path or an ssh address.", completion: Completions.sinks)
        var from: String

        @Argument(help: "The sink copied to: a name, a path or an ssh address.", completion: Completions.sinks)
        var to: String

        @Argument(help: "Only these snapshots of FROM (HEAD, HEAD~N, an ID prefix, a date name, @DATE).")
        var references: [String] = []

        @Flag(help: "Copy only what TO's retention policy keeps, then apply it to TO.")
        var prune = false

        @Flag(help: "Show the progress line even when stderr is not a terminal.")
        var progress = false

        func run() throws {
            let terminal = global.terminal
            let source = global.sourceDirectory == nil ? try? global.source() : try global.source()
            let sides = try ReplicaSides(from: from, to: to, source: source, creating: !change.dryRun, terminal: terminal)
            var options = ReplicateOptions()
            options.dryRun = change.dryRun
            options.lockWait = change.lockWait
            options.prune = prune
            options.fallbackIdentity = try source.map { try $0.identity() }
            if !references.isEmpty {
                let snapshots = try sides.from.snapshots()
                options.only = Set(try references.map { try SnapshotReference(parsing: $0, sinkNames: []).resolve(in: snapshots, sinkName: from).id })
            }
            let reporter = ReplicateReporter(terminal: terminal, dryRun: change.dryRun,
                                             progress: ProgressLine(enabled: !change.dryRun && ProgressLine.decide(terminal: terminal, forced: progress)))
            let result = try withExtendedLifetime(reporter) {
                try EmuRemote.replicate(from: sides.from, to: sides.to, options: options, observer: reporter)
            }
            ProgressLine.clear()
            if report.json { return try terminal.json(ReplicateJSON(result, from: from, to: to, dryRun: change.dryRun)) }
            summarize(result, terminal: terminal)
        }

        func summarize(_ result: ReplicateResult, terminal: Terminal) {
            let held = result.alreadyHeld > 0 ? " (\(plural(result.alreadyHeld, "snapshot")) \(to) holds already)" : ""
            if !result.sameSecond.isEmpty {
                terminal.info("\(plural(result.sameSecond.count, "snapshot")) left out: \(to) holds another snapshot of the same second "
                              + "(one push to both sinks): " + result.sameSecond.map(\.shortID).joined(separator: ", "))
            }
            if !result.leftToPolicy.isEmpty {
                terminal.info("\(plural(result.leftToPolicy.count, "snapshot")) not copied: \(to)'s retention policy keeps none of them")
            }
            if change.dryRun {
                terminal.output("would copy \(plural(result.copied.count, "snapshot"))\(held); at most \(plural(result.filesToSend, "file")), "
                                + "\(formatBytes(result.bytesToSend)) would be read from \(from) and sent")
            } else {
                let bytes = result.counts.reduce(Int64(0)) { $0 + $1.bytesSent }
                terminal.info("copied \(plural(result.copied.count, "snapshot")) from \(from) to \(to)\(held), \(formatBytes(bytes)) sent")
            }
        }
    }
}

/// The two sinks of a replicate: FROM as any sink store, TO as a server's
/// (a local TO is served by this process, so that every copy goes through
/// one receiver).
struct ReplicaSides {
    let from: any SinkStore
    let to: RemoteSink

    init(from fromText: String, to toText: String, source: Source?, creating: Bool, terminal: Terminal) throws {
        let registered = try source?.sinks() ?? []
        from = try Self.open(fromText, registered: registered, source: source)
        to = try Self.openReceiving(toText, registered: registered, source: source, creating: creating, terminal: terminal)
        if from.location == to.location || (resolvedPath(from.location) != nil && resolvedPath(from.location) == resolvedPath(to.location)) {
            throw EmuError.usage("FROM and TO are the same sink (\(to.location))", fix: "name two different sinks")
        }
    }

    /// A sink to read: a registered name, an ssh address, or a sink's path.
    static func open(_ text: String, registered: [SinkRegistration], source: Source?) throws -> any SinkStore {
        if let source, let registration = registered.first(where: { $0.name == text }) { return try source.openOnlineSink(registration) }
        if let address = RemoteAddress(parsing: text) { return try remote(text, address) }
        guard let sink = try Sink.open(SinkRegistration(name: text, path: absolutePath(text))) else {
            throw EmuError.usage("there is no sink at \(text.quotedForDisplay)\(registered.isEmpty ? "" : " and no sink of this source has that name")",
                                 fix: "name a sink of this source (`emu sink`), a sink's path, or an ssh address")
        }
        return sink
    }

    /// The sink to write: one this process serves, or a server's.
    static func openReceiving(_ text: String, registered: [SinkRegistration], source: Source?, creating: Bool,
                              terminal: Terminal) throws -> RemoteSink {
        if let source, let registration = registered.first(where: { $0.name == text }) {
            if registration.remote == nil {
                _ = try Sink.openOnline(registration)
                return try RemoteSink.servedHere(name: text, path: registration.path)
            }
            guard let remote = try source.openOnlineSink(registration) as? RemoteSink else {
                throw EmuError.failed("the sink '\(text)' at \(registration.path) is neither here nor over ssh", fix: "check it with `emu sink`")
            }
            return remote
        }
        if let address = RemoteAddress(parsing: text) { return try remote(text, address, creating: creating) }
        let path = absolutePath(text)
        if case .create = try Sink.plannedCreation(at: path, force: false) {
            guard creating else {
                throw EmuError.usage("\(path) is not a sink yet: a dry run has nothing to compare with there",
                                     fix: "run without -n (it makes the sink and copies every snapshot), or make it first with `emu sink add NAME \(path)`")
            }
            _ = try Sink.create(at: path)
            terminal.info("made a new sink at \(path)")
        }
        return try RemoteSink.servedHere(name: text, path: path)
    }

    /// A sink over ssh that no source registered: the default ssh command and remote emu.
    static func remote(_ text: String, _ address: RemoteAddress, creating: Bool = false) throws -> RemoteSink {
        try RemoteSink(name: text, address: address, sshCommand: defaultSSHCommand, remoteEmu: "emu", creating: creating)
    }

    /// How a sink no source registered is reached: `sink.NAME.ssh-command`'s default.
    static var defaultSSHCommand: [String] { shellWords(Setting.perSink.first { $0.name == "ssh-command" }!.defaultValue!) ?? ["ssh"] }
}

/// Prints what a replicate does: a line a snapshot, and the progress line.
final class ReplicateReporter: PushReporter, ReplicateObserver {
    var planned: [Snapshot] = []
    var number = 0
    /// Files and bytes of the snapshots copied before the current one.
    var doneFiles = 0
    var doneBytes: Int64 = 0
    var totalBytes: Int64 = 0
    let replicating: ProgressLine

    init(terminal: Terminal, dryRun: Bool, progress: ProgressLine) {
        replicating = progress
        super.init(terminal: terminal, dryRun: dryRun, listsPlans: false, progress: progress)
    }

    func planned(_ snapshots: [Snapshot]) {
        planned = snapshots
        totalBytes = snapshots.reduce(0) { $0 + $1.counts.bytes }
        guard dryRun else { return }
        for snapshot in snapshots { terminal.output("would copy snapshot \(snapshot.name) (\(snapshot.shortID))") }
    }

    func replicating(_ snapshot: Snapshot, number: Int) { self.number = number }

    func replicated(_ snapshot: Snapshot, counts: ReplicaCounts) {
        doneFiles += snapshot.counts.files
        doneBytes += snapshot.counts.bytes
        ProgressLine.clear()
        terminal.info("copied snapshot \(snapshot.name) (\(snapshot.shortID)): \(plural(counts.files, "file")), \(counts.linked) unchanged, "
                      + "\(counts.filesSent) sent (\(formatBytes(counts.bytesSent)))")
    }

    override func progressed(files: Int, bytes: Int64) {
        replicating.update(files: doneFiles + files, bytes: doneBytes + bytes, total: ProgressTotal(bytes: totalBytes),
                           prefix: "snapshot \(number)/\(planned.count): ")
    }
}
