import EmuCore
import EmuRecords
import EmuRemote

/// How far each sink lags the sink with this source's newest snapshot:
/// two USB disks swapped weekly, a NAS that is sometimes off. An offline
/// sink is judged by the newest snapshot this source pushed to it.
struct SinkFreshness {
    let newest: (sink: String, date: Timestamp)?

    init(_ dates: [(sink: String, date: Timestamp?)]) {
        newest = dates.compactMap { row in row.date.map { (row.sink, $0) } }.max { $0.1 < $1.1 }
    }

    /// Seconds the sink's newest snapshot is older than the newest on any sink (0 for that one).
    func behind(_ date: Timestamp?) -> Int64? {
        guard let date, let newest else { return nil }
        return newest.date.seconds - date.seconds
    }

    /// "holds the newest snapshot", "3 days behind usb1", or "holds no snapshot of this source".
    func describe(_ date: Timestamp?) -> String {
        guard let date, let newest, let behind = behind(date) else { return "holds no snapshot of this source" }
        if behind <= 0 { return "holds the newest snapshot" }
        return "\(Timestamp.span(behind)) behind \(newest.sink)"
    }
}

/// Which snapshots each online sink holds that another sink of the source
/// lacks (several disks, an offsite copy): what `emu replicate` would copy.
struct SinkGaps {
    /// Each sink's snapshots by the names their dates give: a snapshot of a
    /// second another sink holds one of (one push to both) counts as held, as replicate skips it.
    private var held: [(sink: String, names: Set<String>)] = []

    mutating func add(_ sink: String, _ snapshots: [Snapshot]) { held.append((sink, Set(snapshots.map(\.date.snapshotName)))) }

    /// For `sink`: each other online sink that holds snapshots it lacks, and how many; nil for a sink not listed.
    func lacks(_ sink: String) -> [String: Int]? {
        guard let own = held.first(where: { $0.sink == sink })?.names else { return nil }
        var result: [String: Int] = [:]
        for other in held where other.sink != sink {
            let missing = other.names.subtracting(own).count
            if missing > 0 { result[other.sink] = missing }
        }
        return result
    }

    /// "usb2 lacks 12 snapshots of usb1 (`emu replicate usb1 usb2` copies them)", a line a pair.
    var lines: [String] {
        held.flatMap { row in
            (lacks(row.sink) ?? [:]).sorted { $0.key < $1.key }.map { other, count in
                "\(row.sink) lacks \(plural(count, "snapshot")) of \(other) (`emu replicate \(other) \(row.sink)` copies them)"
            }
        }
    }
}
