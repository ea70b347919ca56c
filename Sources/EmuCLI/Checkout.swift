import ArgumentParser
import EmuCore
import EmuPOSIX
import Glibc

extension Emu {
    struct Checkout: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore the source (or DIR, or only some paths) to a snapshot's state.",
            discussion: """
                Files not in the snapshot are removed; excluded paths and .emu/ are left alone. \
                Checkout refuses, changing nothing, to overwrite or remove a file that differs \
                from the sink's newest snapshot (it names them); --force overrides. Each file \
                is written under a temporary name and renamed into place.

                \(ExitStatus.help)
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions

        @Argument(help: "[SINK:]SNAPSHOT to restore.")
        var reference: String

        @Argument(parsing: .postTerminator, help: "Paths to restore (after --), relative to the working directory inside the source.")
        var paths: [String] = []

        @Option(help: ArgumentHelp("Restore into DIR (missing or empty, unless --force) instead of the source.", valueName: "DIR"))
        var to: String?

        @Flag(name: .shortAndLong, help: "Overwrite files that no snapshot holds; allow a non-empty --to DIR.")
        var force = false

        @Flag(help: "Show the progress line even when stderr is not a terminal.")
        var progress = false

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let resolved = try source.resolve(reference)
            var options = CheckoutOptions()
            options.paths = try paths.map { try source.snapshotPath($0) }
            options.destination = to
            options.force = force
            options.dryRun = change.dryRun
            options.lockWait = change.lockWait
            let observer = CheckoutReporter(terminal: terminal, dryRun: change.dryRun,
                                            progress: ProgressLine(enabled: ProgressLine.decide(terminal: terminal, forced: progress)),
                                            total: resolved.snapshot.counts.bytes)
            let hooks = Hooks(source: source, command: "checkout")
            var environment = ["EMU_SINK": resolved.registration.name, "EMU_SINK_PATH": resolved.registration.path,
                               "EMU_SOURCE": source.path, "EMU_SNAPSHOT": resolved.snapshot.id, "EMU_STATUS": "starting"]
            let result: CheckoutResult
            do {
                if !change.dryRun { try hooks.run(.pre, environment: environment) }
                result = try EmuCore.checkout(resolved.snapshot, from: resolved.sink, source: source, options: options, observer: observer)
            } catch {
                if !change.dryRun {
                    environment["EMU_STATUS"] = "failed"
                    for warning in (try? hooks.run(.error, environment: environment)) ?? [] { terminal.warning(warning) }
                }
                throw error
            }
            if !change.dryRun {
                environment["EMU_STATUS"] = "complete"
                for warning in try hooks.run(.post, environment: environment) { terminal.warning(warning) }
            }
            ProgressLine.clear()
            let what = "\(resolved.registration.name):\(resolved.snapshot.name) (\(resolved.snapshot.shortID))"
            if change.dryRun {
                terminal.info("dry run: nothing changed; \(observer.writes) path(s) would be written and \(observer.removals) removed in \(result.target)")
            } else {
                terminal.info("Restored \(what) into \(result.target): \(result.filesWritten) file(s) written (\(formatBytes(result.bytesWritten))), \(result.removed) removed")
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
    var removals = 0

    init(terminal: Terminal, dryRun: Bool, progress: ProgressLine, total: Int64) {
        self.terminal = terminal
        self.dryRun = dryRun
        self.progress = progress
        self.total = total
    }

    func planned(_ path: RelativePath, _ action: CheckoutAction) {
        if action == .write { writes += 1 } else { removals += 1 }
        let line = "\(action == .write ? "restore" : "remove") \(path)"
        if dryRun { terminal.output("would " + line) } else { terminal.detail(line) }
    }

    func noted(_ path: RelativePath, _ message: String) {
        terminal.info("emu: \(path): \(message)")
    }

    func progressed(files: Int, bytes: Int64) {
        progress.update(files: files, bytes: bytes, total: total)
    }
}
