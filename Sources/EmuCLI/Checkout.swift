import ArgumentParser
import EmuCore
import EmuPOSIX
import Glibc
import EmuRecords
import EmuRemote

extension Emu {
    struct Checkout: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore the source (or DIR, or only some paths) to a snapshot's state.",
            discussion: """
                Into the source, files not in the snapshot are removed; excluded paths and .emu/ \
                are left alone. Checkout refuses, changing nothing, to overwrite or remove a file \
                that differs from the sink's newest snapshot (it names them); --force overrides. \
                With --to DIR, a non-empty DIR is refused (naming what --force would overwrite) \
                and files of DIR the snapshot does not hold stay unless --delete is given. An \
                entry whose content is right but whose mode, owner, mtime, xattrs or ACLs differ \
                is mended in place, without rewriting its bytes. Each file is written under a \
                temporary name and renamed into place. The result line goes to stdout.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "[SINK:]SNAPSHOT to restore.", completion: Completions.references)
        var reference: String

        @Argument(parsing: .postTerminator, help: "Paths to restore (after --), relative to the working directory inside the source.")
        var paths: [String] = []

        @Option(help: ArgumentHelp("Restore into DIR (missing or empty, unless --force) instead of the source.", valueName: "DIR"))
        var to: String?

        @Flag(name: .shortAndLong, help: "Overwrite files that no snapshot holds; allow a non-empty --to DIR.")
        var force = false

        @Flag(help: "With --to DIR: also remove files of DIR that the snapshot does not hold (a mirror).")
        var delete = false

        @Flag(help: "Show the progress line even when stderr is not a terminal.")
        var progress = false

        func validate() throws {
            if delete && to == nil {
                throw ValidationError("--delete goes with --to DIR: a checkout into the source always removes what the snapshot does not hold")
            }
        }

        func run() throws {
            let context = try global.context(for: "checkout")
            let (terminal, source, hooks) = (context.terminal, context.source, context.hooks)
            var options = CheckoutOptions()
            let resolved: ResolvedSnapshot
            do {
                resolved = try source.resolve(reference)
                options.paths = try paths.map { try source.snapshotPath($0) }
            } catch {
                // The checkout failed before it began: its .error hooks still hear of it.
                if !change.dryRun { context.runErrorHooks(sink: "", path: "", failure: error) }
                throw error
            }
            options.destination = to
            options.force = force
            options.deletes = delete
            options.dryRun = change.dryRun
            options.lockWait = change.lockWait
            let observer = CheckoutReporter(terminal: terminal, dryRun: change.dryRun && !report.json,
                                            progress: ProgressLine(enabled: ProgressLine.decide(terminal: terminal, forced: progress)),
                                            total: resolved.snapshot.counts.bytes)
            var environment = ["EMU_SINK": resolved.registration.name, "EMU_SINK_PATH": resolved.registration.path,
                               "EMU_SOURCE": source.path, "EMU_SNAPSHOT": resolved.snapshot.id, "EMU_STATUS": "starting"]
            let result: CheckoutResult
            do {
                if !change.dryRun { try hooks.run(.pre, environment: environment) }
                result = try EmuCore.checkout(resolved.snapshot, from: resolved.store, source: source, options: options, observer: observer)
            } catch {
                if !change.dryRun {
                    context.runErrorHooks(sink: resolved.registration.name, path: resolved.registration.path, snapshot: resolved.snapshot.id,
                                          failure: error)
                }
                throw error
            }
            if !change.dryRun {
                environment["EMU_STATUS"] = "complete"
                for warning in try hooks.run(.post, environment: environment) { terminal.warning(warning) }
            }
            ProgressLine.clear()
            try summarize(result, of: resolved, observer: observer, terminal: terminal)
        }

        func summarize(_ result: CheckoutResult, of resolved: ResolvedSnapshot, observer: CheckoutReporter, terminal: Terminal) throws {
            if report.json {
                let target = JSONName(userPath: result.target)
                return try terminal.json(CheckoutJSON(
                    snapshot: SnapshotJSON(resolved.snapshot, sink: resolved.registration.name), target: target.text, targetBytes: target.bytes,
                    dryRun: change.dryRun, filesWritten: change.dryRun ? observer.writes : result.filesWritten,
                    bytesWritten: result.bytesWritten, metadataMended: result.mended, removed: result.removed))
            }
            guard !global.quiet else { return }
            let what = "\(resolved.registration.name):\(resolved.snapshot.name) (\(resolved.snapshot.shortID))"
            if change.dryRun {
                terminal.output("Dry run, nothing changed: would write \(plural(observer.writes, "path")), mend \(observer.mends), remove \(observer.removals) in \(result.target)")
            } else {
                terminal.output("Restored \(what) into \(result.target): \(plural(result.filesWritten, "file")) written (\(formatBytes(result.bytesWritten))), \(result.mended) mended, \(result.removed) removed")
            }
        }
    }
}

/// Prints what a checkout does: each change with -v (or -n), and progress.
final class CheckoutReporter: CheckoutObserver {
    let terminal: Terminal
    let dryRun: Bool
    let progress: ProgressLine
    let total: Int64
    var writes = 0
    var mends = 0
    var removals = 0

    init(terminal: Terminal, dryRun: Bool, progress: ProgressLine, total: Int64) {
        self.terminal = terminal
        self.dryRun = dryRun
        self.progress = progress
        self.total = total
    }

    func planned(_ path: RelativePath, _ action: CheckoutAction) {
        let verb: String
        switch action {
        case .write, .overwrite: writes += 1; verb = "restore"
        case .mend: mends += 1; verb = "mend metadata of"
        case .remove: removals += 1; verb = "remove"
        }
        let line = "\(verb) \(path)"
        if dryRun { terminal.output("would " + line) } else { terminal.detail(line) }
    }

    func noted(_ path: RelativePath, _ message: String) {
        terminal.info("emu: \(path): \(message)")
    }

    func progressed(files: Int, bytes: Int64) {
        progress.update(files: files, bytes: bytes, total: ProgressTotal(bytes: total))
    }
}
