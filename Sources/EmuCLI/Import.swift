import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

extension BackupLayout: ExpressibleByArgument {}

extension Emu {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Turn another tool's backup folders into snapshots of a sink, linked, not copied.",
            discussion: """
                KIND is rsnapshot (DIR is the snapshot_root: hourly.0, daily.3, ..., dated by \
                their mtimes), rsync-time-backup (DIR holds backup.marker and YYYY-MM-DD-HHMMSS \
                folders, dated by their names; an unfinished run's folder is left out) or dirs \
                (each DIR one snapshot, dated by a YYYY-MM-DD[-HHMMSS] name, else by its mtime). \
                Oldest first, each folder becomes a snapshot of this source in the default sink \
                (or --sink), with its date, its manifest computed and the content index filled, \
                so the next push links against it. A file new to the sink is the backup's own \
                inode, given a name in the snapshot, when the sink is on the same filesystem: \
                nothing is copied, and deleting the old folders afterwards frees nothing the \
                snapshots need; elsewhere (another filesystem, a sink over ssh) it is copied, \
                once per content. A file the previous folder held \
                unchanged (same size, mtime, mode and owner, as rsync judges) links to it. A \
                folder whose date a snapshot already has is taken as imported and skipped; one \
                older than the sink's newest snapshot is refused. The retention policy is not \
                applied.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions

        @Argument(help: "rsnapshot, rsync-time-backup or dirs.")
        var kind: BackupLayout

        @Argument(help: "The tool's backup root (for dirs: the folders).", completion: .directory)
        var directories: [String] = []

        @Option(help: ArgumentHelp("Import into SINK (default: the default sink).", valueName: "SINK"), completion: Completions.sinks)
        var sink: String?

        func validate() throws {
            if directories.isEmpty { throw ValidationError("name the backups' directory: emu import \(kind.rawValue) DIR") }
        }

        func run() throws {
            let context = try global.context(for: "import")
            let (terminal, source) = (context.terminal, context.source)
            let registration = try sink.map { try source.sink(named: $0) } ?? source.defaultSink()
            let store = try source.openOnlineSink(registration)
            var skipped: [String] = []
            let backups = try findBackups(kind, in: directories, skipped: &skipped)
            for path in skipped { terminal.warning("\(path) is unfinished (backup.inprogress names it); not imported") }
            guard !backups.isEmpty else {
                throw EmuError.usage("no \(kind.rawValue) backups in \(directories.joined(separator: " "))",
                                     fix: "name the folder that holds them")
            }
            let sourceLock = try source.lock(.shared, wait: change.lockWait)
            defer { _ = sourceLock }
            var existing = try store.snapshots()
            for backup in backups {
                if existing.contains(where: { $0.date.snapshotName == backup.date.snapshotName }) {
                    terminal.info("\(backup.path): snapshot \(backup.date.snapshotName) exists; taken as imported")
                    continue
                }
                if let newest = existing.last, backup.date < newest.date {
                    throw EmuError.usage("\(backup.path) is from \(backup.date.displayText), before the sink's newest snapshot (\(newest.name))",
                                         fix: "import into a sink of its own (`emu sink add NAME PATH`, then --sink NAME), oldest backups first")
                }
                try importOne(backup, into: store, registration: registration, source: source, terminal: terminal)
                if !change.dryRun { existing = try store.snapshots() }
            }
        }

        func importOne(_ backup: Backup, into store: any SinkStore, registration: SinkRegistration, source: Source, terminal: Terminal) throws {
            var options = PushOptions()
            options.importing = backup.path
            options.date = backup.date
            options.message = "imported from \(backup.label)"
            options.rotate = false
            options.dryRun = change.dryRun
            options.lockWait = change.lockWait
            let observer = PushReporter(terminal: terminal, dryRun: change.dryRun, listsPlans: false, progress: ProgressLine(enabled: false), total: nil)
            let result = try store.push(source, options: options, observer: observer)
            let counts = result.counts
            let name = "\(registration.name):\(backup.date.snapshotName)"
            if change.dryRun {
                // A dry run cannot know which new files the sink's filesystem lets it adopt.
                return terminal.info("would import \(backup.path) as \(name): \(plural(counts.files, "file")), "
                                     + "\(counts.filesCopied) new to the sink (\(formatBytes(counts.bytesCopied)))")
            }
            terminal.info("imported \(backup.path) as \(name): \(plural(counts.files, "file")), "
                          + "\(counts.filesLinked) linked, \(counts.filesCopied) copied (\(formatBytes(counts.bytesCopied)))")
        }
    }
}
