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
