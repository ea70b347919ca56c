import ArgumentParser
import EmuCore
import EmuPOSIX
import Glibc
import EmuRecords
import EmuRemote

extension Emu {
    struct Timeline: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one self-contained HTML page that charts a sink's snapshots over time.",
            discussion: """
                The page (on stdout, never a terminal: `emu timeline > timeline.html`) needs no \
                network and runs no script: an SVG chart as wide as the window of each snapshot's \
                total bytes (blue area) and unique bytes (orange bars, on their own scale: what \
                pruning it would free), the changes from the snapshot before (added green, \
                deleted red, modified purple), pushes that failed (labelled marks, from \
                SOURCE/.emu/failures, and a table) or made incomplete snapshots (olive rings), \
                and with --path P one path's history (a teal dot where it changed), over five \
                dates. Every mark names its snapshot when pointed at; a table lists them all. Changes and the path's history \
                come from one diff of each pair of manifests (chunks both list are not read); \
                a pair that cannot be read is named on stderr and shown as unreadable.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The sink to chart (default: the default sink).", valueName: "SINK"), completion: Completions.sinks)
        var sink: String?

        @Option(help: ArgumentHelp("Also chart this path's history (where it changed).", valueName: "PATH"))
        var path: String?

        func run() throws {
            // The page is HTML for a browser, as export's archive is for tar: never dumped on a terminal.
            try refuseTerminalOutput("the timeline is an HTML page for a browser",
                                     fix: "redirect it to a file and open that (`emu timeline > timeline.html`)")
            let source = try global.source()
            let registration = try sink.map { try source.sink(named: $0) } ?? source.defaultSink()
            let store = try source.openOnlineSink(registration)
            try store.lock(.shared, wait: 0)
            defer { store.unlock() }
            let tracked = try path.map { try source.snapshotPath($0) }
            let points = try timelinePoints(store, tracked: tracked)
            let failures = PushRecord.failures(of: registration.name, in: source)
            let page = TimelinePage(sink: registration.name, sourcePath: source.path, points: points, failures: failures,
                                    tracked: tracked, made: Timestamp.now()).html
            global.terminal.output(page)
        }

        /// Each snapshot, oldest first, with its unique bytes, the changes from
        /// the one before, and whether the tracked path changed there: one
        /// diff of each pair of manifests tells both (chunks they share are
        /// not read). A pair that cannot be read is named and charted as unknown.
        func timelinePoints(_ store: any SinkStore, tracked: RelativePath?) throws -> [TimelinePoint] {
            var points: [TimelinePoint] = []
            var present = false
            for snapshot in try store.snapshots() {
                var point = TimelinePoint(snapshot: snapshot, unique: try? store.uniqueBytes(of: snapshot))
                if let before = points.last?.snapshot {
                    do {
                        point.changes = try EmuCore.diff(from: try DiffSide.snapshot(before, in: store),
                                                         to: try DiffSide.snapshot(snapshot, in: store)) { change in
                            guard let tracked else { return }
                            if change.path.isWithin(tracked) || change.oldPath?.isWithin(tracked) == true { point.trackedChanged = true }
                            if change.oldPath == tracked { present = false }
                            if change.path == tracked { present = change.kind != .deleted }
                        }
                    } catch {
                        point.unreadable = true
                        global.terminal.warning("the changes from \(before.name) to \(snapshot.name) cannot be read (\(error)); "
                                                + "charted as unknown; `emu verify` names the damage")
                    }
                } else if let tracked {
                    present = try store.digest(of: tracked, in: snapshot) != nil
                    point.trackedChanged = present
                }
                point.trackedPresent = present
                points.append(point)
            }
            return points
        }
    }
}

/// One snapshot on the timeline.
struct TimelinePoint {
    var snapshot: Snapshot
    var unique: Int64?
    /// The changes from the snapshot before (nil for the first, or when unreadable).
    var changes: DiffSummary? = nil
    var unreadable = false
    var trackedChanged = false
    var trackedPresent = false
}
