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
        @OptionGroup var report: ReportOptions

        @Argument(help: "rsnapshot, rsync-time-backup or dirs.")
        var kind: BackupLayout

        @Argument(help: "The tool's backup root (for dirs: the folders).", completion: .directory)
        var directories: [String] = []

        @Option(help: ArgumentHelp("Import into SINK (default: the default sink).", valueName: "SINK"), completion: Completions.sinks)
        var sink: String?

        @Option(help: ArgumentHelp("rsnapshot: the backup point in each backup (localhost/home/me); default: the source's path, or the only one.",
                                   valueName: "PATH"), completion: .directory)
        var path: String?

        func validate() throws {
            if directories.isEmpty { throw ValidationError("name the backups' directory: emu import \(kind.rawValue) DIR") }
            if path != nil && kind != .rsnapshot { throw ValidationError("--path names rsnapshot's backup point; \(kind.rawValue) backups are the source's tree") }
        }

        func run() throws {
            let context = try global.context(for: "import")
            let (terminal, source) = (context.terminal, context.source)
            let registration = try sink.map { try source.sink(named: $0) } ?? source.defaultSink()
            let store = try source.openOnlineSink(registration)
            var skipped: [String] = []
            var backups = try findBackups(kind, in: directories, skipped: &skipped)
            for path in skipped { terminal.warning("\(path) is unfinished (backup.inprogress names it); not imported") }
            guard let newest = backups.last else {
                throw EmuError.usage("no \(kind.rawValue) backups in \(directories.joined(separator: " "))",
                                     fix: "name the folder that holds them")
            }
            if kind == .rsnapshot { backups = try backupPoints(of: backups, newest: newest, source: source, terminal: terminal) }
            let sourceLock = try source.lock(.shared, wait: change.lockWait)
            defer { _ = sourceLock }
            var existing = try store.snapshots()
            var imported: [ImportedJSON] = []
            defer { if report.json { try? terminal.json(ImportJSON(sink: registration.name, dryRun: change.dryRun, backups: imported)) } }
            for backup in backups {
                if let held = existing.first(where: { $0.date.snapshotName == backup.date.snapshotName }) {
                    terminal.info("\(backup.path): snapshot \(backup.date.snapshotName) exists; taken as imported")
                    imported.append(ImportedJSON(path: backup.path, snapshot: SnapshotJSON(held, sink: registration.name), alreadyImported: true))
                    continue
                }
                if let newest = existing.last, backup.date < newest.date {
                    throw EmuError.usage("\(backup.path) is from \(backup.date.displayText), before the sink's newest snapshot (\(newest.name))",
                                         fix: "import into a sink of its own (`emu sink add NAME PATH`, then --sink NAME), oldest backups first")
                }
                imported.append(try importOne(backup, into: store, registration: registration, source: source, terminal: terminal))
                if !change.dryRun { existing = try store.snapshots() }
            }
        }

        /// rsnapshot's backups narrowed to the backup point, said once; one that lacks it is named and left out.
        func backupPoints(of backups: [Backup], newest: Backup, source: Source, terminal: Terminal) throws -> [Backup] {
            let (point, how) = try rsnapshotBackupPoint(in: newest.path, source: source.path, given: path)
            terminal.info("importing \(point) of each backup (\(how))")
            return backups.compactMap { backup in
                guard isDirectory(backup.path + "/" + point) else {
                    terminal.warning("\(backup.path) holds no \(point); not imported")
                    return nil
                }
                return Backup(path: backup.path + "/" + point, date: backup.date, label: backup.label)
            }
        }

        func importOne(_ backup: Backup, into store: any SinkStore, registration: SinkRegistration, source: Source,
                       terminal: Terminal) throws -> ImportedJSON {
            var options = PushOptions()
            options.importing = backup.path
            options.date = backup.date
            options.message = "imported from \(backup.label)"
            options.rotate = false
            options.dryRun = change.dryRun
            options.lockWait = change.lockWait
            let observer = PushReporter(terminal: terminal, dryRun: change.dryRun, listsPlans: false, progress: ProgressLine(enabled: false))
            let result = try store.push(source, options: options, observer: observer)
            let counts = result.counts
            let name = "\(registration.name):\(backup.date.snapshotName)"
            var json = ImportedJSON(path: backup.path, snapshot: result.snapshot.map { SnapshotJSON($0, sink: registration.name) })
            (json.files, json.filesLinked, json.filesCopied, json.bytesCopied) = (counts.files, counts.filesLinked, counts.filesCopied, counts.bytesCopied)
            if change.dryRun {
                // A dry run cannot know which new files the sink's filesystem lets it adopt.
                terminal.info("would import \(backup.path) as \(name): \(plural(counts.files, "file")), "
                              + "\(counts.filesCopied) new to the sink (\(formatBytes(counts.bytesCopied)))")
            } else {
                terminal.info("imported \(backup.path) as \(name): \(plural(counts.files, "file")), "
                              + "\(counts.filesLinked) linked, \(counts.filesCopied) copied (\(formatBytes(counts.bytesCopied)))")
            }
            return json
        }
    }
}
