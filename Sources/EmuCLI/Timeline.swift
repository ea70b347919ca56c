import ArgumentParser
import EmuCore
import EmuPOSIX
import Glibc

extension Emu {
    struct Timeline: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one self-contained HTML page that charts a sink's snapshots over time.",
            discussion: """
                The page (on stdout: `emu timeline > timeline.html`) needs no network and runs no script: an \
                SVG chart of each snapshot's total bytes (blue area) and unique bytes (orange \
                bars: what pruning it would free), the changes from the snapshot before \
                (added green, deleted red, modified purple), pushes that failed (red marks, from \
                SOURCE/.emu/failures) or made incomplete snapshots (olive rings), and with --path \
                P one path's history (a teal dot where it changed). Every mark names its \
                snapshot when pointed at; a table lists them all. Changes are read from the \
                manifests (chunks two snapshots share are not read twice).

                \(ExitStatus.help)
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The sink to chart (default: the default sink).", valueName: "SINK"), completion: Completions.sinks)
        var sink: String?

        @Option(help: ArgumentHelp("Also chart this path's history (where it changed).", valueName: "PATH"))
        var path: String?

        func run() throws {
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
        /// the one before, and whether the tracked path changed there.
        func timelinePoints(_ store: any SinkStore, tracked: RelativePath?) throws -> [TimelinePoint] {
            var points: [TimelinePoint] = []
            var previous: (snapshot: Snapshot, digest: ContentHash?)? = nil
            for snapshot in try store.snapshots() {
                var point = TimelinePoint(snapshot: snapshot, unique: try? store.uniqueBytes(of: snapshot))
                if let before = previous?.snapshot {
                    point.changes = try? EmuCore.diff(from: try DiffSide.snapshot(before, in: store),
                                                      to: try DiffSide.snapshot(snapshot, in: store)) { _ in }
                }
                let digest = try tracked.flatMap { try store.digest(of: $0, in: snapshot) }
                if tracked != nil { point.trackedChanged = previous.map { $0.digest != digest } ?? (digest != nil) }
                point.trackedPresent = digest != nil
                previous = (snapshot, digest)
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
    /// The changes from the snapshot before (nil for the first).
    var changes: DiffSummary? = nil
    var trackedChanged = false
    var trackedPresent = false
}
