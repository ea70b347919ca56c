import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

extension Emu {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sinks, their newest snapshots and ages, and what changed in the source since.",
            discussion: """
                For each sink: online or offline, its newest snapshot and its age, and how many \
                paths of the source were added, deleted or changed since (a summary of `emu \
                diff`). It takes no lock: it works while a push runs and on a read-only sink. \
                A sink has a problem when it is offline, holds no snapshot, its newest complete \
                snapshot is older than status.max-age (`emu config status.max-age 3d`; 2 days by \
                default), `emu verify` found damage in one of its snapshots, or its last push \
                failed. Problems are warnings; with --check each is one line on stderr and the \
                exit status is 1 (0 when there is none), for monitoring.

                \(ExitStatus.help())
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        @Flag(help: "Exit with status 1, a line per problem on stderr, when a sink is stale, offline, empty, damaged or its last push failed.")
        var check = false

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let maxAge = try source.statusMaxAge()
            let now = Timestamp.now()
            // Each row is printed as its sink answers (a slow server delays its own row only), compared with
            // what the source noted of the sinks not asked yet; the JSON document, printed last, compares them all.
            let registrations = try source.sinks()
            var dates = registrations.map { ($0.name, PushedRecord.newest(of: $0.name, in: source)) }
            var rows: [SinkStatusJSON] = []
            var gaps = SinkGaps()
            for (i, registration) in registrations.enumerated() {
                let row = try status(of: registration, source: source, maxAge: maxAge, now: now) { gaps.add(registration.name, $0) }
                if let age = row.ageSeconds { dates[i].1 = Timestamp(seconds: now.seconds - age) }
                rows.append(row)
                if !report.json { print(row, newest: dates[i].1, terminal: terminal, now: now, freshness: SinkFreshness(dates).describe(dates[i].1)) }
            }
            let freshness = SinkFreshness(dates)
            for (i, (_, date)) in dates.enumerated() {
                rows[i].behindSeconds = freshness.behind(date)
                rows[i].holdsNewest = rows[i].behindSeconds.map { $0 <= 0 }
                rows[i].lacks = gaps.lacks(rows[i].sink)
                if !rows[i].online { rows[i].lastPushed = date?.iso8601 }
            }
            var problems = rows.compactMap { row in row.reason.map { "\(row.sink): \($0)" } }
            if !rows.isEmpty && rows.allSatisfy({ !$0.online }) { problems.append("no sink is online") }
            if rows.isEmpty { problems.append("this source has no sinks; add one with `emu sink add NAME PATH`") }
            if report.json { try terminal.json(StatusJSON(sinks: rows, ok: problems.isEmpty)) } else { gaps.lines.forEach(terminal.output) }
            for problem in problems {
                if check { terminal.error(problem, fix: nil) } else if !report.json { terminal.warning(problem) }
            }
            if check && !problems.isEmpty { throw ExitStatus.failure }
        }

        /// One sink's state, and its first problem. No lock (the SPEC): status
        /// never waits for, nor is refused by, a push under way; the newest
        /// snapshot is published whole, so what it reads is whole too.
        func status(of registration: SinkRegistration, source: Source, maxAge: Int64, now: Timestamp,
                    listed: ([Snapshot]) -> Void) throws -> SinkStatusJSON {
            let path = JSONName(userPath: registration.path)
            var row = SinkStatusJSON(sink: registration.name, path: path.text, pathBytes: path.bytes, online: false, state: "offline",
                                     reason: "offline: \(Self.absence(of: registration.path))")
            let opened: (any SinkStore)?
            do { opened = try source.openSink(registration) } catch let error as EmuError where registration.remote != nil {
                row.reason = "offline: \(error.message)"
                return row
            }
            guard let sink = opened else { return row }
            row.online = true
            let snapshots = try sink.snapshots()
            listed(snapshots)
            row.snapshots = snapshots.count
            row.state = "ok"
            row.reason = nil
            func problem(_ state: String, _ reason: String) {
                if row.reason == nil { row.state = state; row.reason = reason }
            }
            if let failure = try PushRecord.lastFailure(of: registration.name, in: source) {
                problem("failed", Self.lastPush(failure))
            }
            guard let newest = snapshots.last else {
                problem("empty", "holds no snapshot yet; make one with `emu push \(registration.name)`")
                return row
            }
            let summary = try EmuCore.diff(from: try DiffSide.snapshot(newest, in: sink), to: try DiffSide.source(source)) { _ in }
            row.newest = SnapshotJSON(newest, sink: registration.name)
            row.ageSeconds = now.seconds - newest.date.seconds
            row.changes = ChangeCountsJSON(summary)
            if let damaged = snapshots.last(where: { $0.verification.map { $0 != "CLEAN" } ?? false }) {
                row.damaged = SnapshotJSON(damaged, sink: registration.name)
                problem("damaged", "`emu verify` found damage in snapshot \(damaged.name) (\(damaged.shortID))")
            }
            if let good = snapshots.last(where: { $0.status == .complete }) {
                // A push that found nothing changed (--skip-if-unchanged) vouches for it until then.
                let confirmed = PushedRecord.confirmed(good, of: registration.name, in: source)
                if now.seconds - max(good.date, confirmed ?? good.date).seconds > maxAge {
                    let vouched = confirmed.map { ", last found unchanged \($0.age(at: now))" } ?? ""
                    problem("stale", "the newest complete snapshot is from \(good.date.age(at: now))\(vouched), older than status.max-age; push soon")
                }
            } else {
                problem("stale", "holds no complete snapshot")
            }
            return row
        }

        /// What the remembered failure says (`DATE MESSAGE`): a push cut off is
        /// not one that failed, and the next one resumes it.
        static func lastPush(_ failure: String) -> String {
            let (date, message) = failure.firstIndex(of: " ").map { (failure[..<$0], failure[failure.index(after: $0)...]) } ?? ("", failure[...])
            guard message.hasPrefix(PushRecord.interrupted) else { return "the last push failed (\(failure))" }
            return "the last push was interrupted (\(date): \(message.dropFirst(PushRecord.interrupted.count))); the next push resumes from what it copied"
        }

        /// Why a local sink's path holds no sink: not there, an empty directory (a disk's mount point, the disk not mounted), or other files.
        static func absence(of path: String) -> String {
            guard isDirectory(path) else { return "\(path) is not there (mount the disk, or check the path with `emu sink`)" }
            let isEmpty = ((try? DirectoryHandle.open(path).entries()) ?? []).isEmpty
            return isEmpty ? "\(path) is an empty directory (is the disk mounted there?)" : "\(path) holds no emu sink (check the path with `emu sink`)"
        }

        func print(_ row: SinkStatusJSON, newest date: Timestamp?, terminal: Terminal, now: Timestamp, freshness: String) {
            guard row.online else {
                let pushed = date.map { "last pushed \($0.age(at: now))" } ?? "never pushed from here"
                return terminal.output("\(row.sink)\toffline\t\(row.path)\t\(pushed)\t\(freshness)")
            }
            guard let newest = row.newest, let changes = row.changes else {
                return terminal.output("\(row.sink)\tonline\tno snapshots yet")
            }
            let since = changes.total == 0
                ? "source unchanged since"
                : "source changed since: \(changes.added) added, \(changes.deleted) deleted, \(changes.modified + changes.typeChanged + changes.metadata) changed, \(changes.renamed) renamed"
            // A damaged sink does not read like a healthy one.
            let online = row.damaged.map { terminal.paint("online, DAMAGED (snapshot \($0.name))", .red, forOutput: true) } ?? "online"
            terminal.output("\(row.sink)\t\(online)\tnewest \(newest.name) (\((date ?? now).age(at: now)))\t\(freshness)\t\(since)")
        }
    }
}
