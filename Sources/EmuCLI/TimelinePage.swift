import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

/// The timeline as one HTML page with inline SVG and CSS: no script, no
/// network, so a browser draws it as it is, offline, years from now.
struct TimelinePage {
    let sink: String
    let sourcePath: String
    let points: [TimelinePoint]
    let failures: [(date: Timestamp, message: String)]
    let tracked: RelativePath?
    let made: Timestamp

    /// The marks' colours; each is drawn solid (crisp edges), so a screenshot shows them exactly.
    enum Color: String, CaseIterable {
        case total = "#1f77b4", unique = "#ff7f0e", added = "#2ca02c", deleted = "#d62728", modified = "#9467bd"
        case failed = "#e6007e", incomplete = "#bcbd22", path = "#17becf"
    }

    static let width = 1000.0, left = 90.0, right = 20.0
    static let bytesTop = 40.0, bytesHeight = 280.0, changesTop = 370.0, changesHeight = 140.0, pathTop = 550.0

    var html: String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>emu timeline: \(escape(sink))</title>
        <style>
        body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
        #timeline { width: 100%; max-width: 1600px; height: auto; }
        h1 { font-size: 20px; } svg text { font-size: 12px; fill: #444; }
        table { border-collapse: collapse; margin-top: 16px; } td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
        td:first-child, th:first-child, td:last-child, th:last-child { text-align: left; }
        .legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 14px; vertical-align: middle; }
        </style></head><body>
        <h1>Snapshots of \(escape(sourcePath)) in sink \(escape(sink))</h1>
        <p>\(plural(points.count, "snapshot")), \(plural(failures.count, "failed push", "failed pushes")) remembered; made \(made.displayText).</p>
        <p class="legend">\(legend)</p>
        \(svg)
        \(table)
        \(failureTable)
        </body></html>
        """
    }

    var legend: String {
        var items: [(Color, String)] = [(.total, "total bytes"), (.unique, "unique bytes"), (.added, "added"), (.deleted, "deleted"),
                                        (.modified, "changed"), (.failed, "failed push"), (.incomplete, "incomplete snapshot")]
        if let tracked { items.append((.path, "\(Printable.path(tracked.bytes)) changed")) }
        return items.map { "<span style=\"background:\($0.0.rawValue)\"></span>\(escape($0.1))" }.joined()
    }

    // MARK: The chart

    var svg: String {
        let height = tracked == nil ? Self.changesTop + Self.changesHeight + 40 : Self.pathTop + 50
        var marks: [String] = []
        marks += bytesPanel
        marks += changesPanel
        marks += failureMarks
        if tracked != nil { marks += pathStrip }
        marks += timeAxis(bottom: height - 12)
        // A viewBox, not a fixed size: the chart takes the window's width (the style caps it).
        return "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(Self.width)) \(Int(height))\" "
            + "preserveAspectRatio=\"xMinYMin meet\" shape-rendering=\"crispEdges\">\n" + marks.joined(separator: "\n") + "\n</svg>"
    }

    /// Where a date falls across the plot; one date alone falls in the middle.
    func x(_ date: Timestamp) -> Double {
        let dates = points.map(\.snapshot.date.seconds) + failures.map(\.date.seconds)
        guard let first = dates.min(), let last = dates.max(), last > first else { return (Self.left + Self.width - Self.right) / 2 }
        let usable = Self.width - Self.left - Self.right - 40
        return Self.left + 20 + Double(date.seconds - first) / Double(last - first) * usable
    }

    var barWidth: Double {
        max(3, min(24, (Self.width - Self.left - Self.right) / Double(max(points.count, 1)) * 0.5))
    }

    var bytesPanel: [String] {
        let top = points.map { max($0.snapshot.counts.bytes, $0.unique ?? 0) }.max() ?? 0
        let scale = Self.bytesHeight / Double(max(top, 1))
        // Unique bytes are a small share of the total: on the total's scale all but the largest vanish. Their own scale, on the right.
        let uniqueTop = points.compactMap(\.unique).max() ?? 0
        let uniqueScale = Self.bytesHeight / Double(max(uniqueTop, 1))
        let base = Self.bytesTop + Self.bytesHeight
        var marks = [axisLabels(top: Self.bytesTop, height: Self.bytesHeight, maximum: formatBytes(top), title: "bytes"),
                     "<text x=\"\(f(Self.width - Self.right))\" y=\"\(f(Self.bytesTop - 4))\" text-anchor=\"end\" fill=\"\(Color.unique.rawValue)\">"
                         + "unique: bar height up to \(escape(formatBytes(uniqueTop)))</text>"]
        let corners = points.map { "\(f(x($0.snapshot.date))),\(f(base - Double($0.snapshot.counts.bytes) * scale))" }
        if let first = points.first, let last = points.last {
            let (from, to) = points.count == 1 ? (x(first.snapshot.date) - 12, x(last.snapshot.date) + 12) : (x(first.snapshot.date), x(last.snapshot.date))
            let outline = points.count == 1 ? ["\(f(from)),\(corners[0].split(separator: ",")[1])", "\(f(to)),\(corners[0].split(separator: ",")[1])"] : corners
            marks.append("<polygon id=\"total\" class=\"total\" fill=\"\(Color.total.rawValue)\" points=\"\(f(from)),\(f(base)) "
                         + outline.joined(separator: " ") + " \(f(to)),\(f(base))\"><title>total bytes</title></polygon>")
        }
        for point in points {
            let s = point.snapshot
            let unique = Double(point.unique ?? 0) * uniqueScale
            marks.append(rect("unique", .unique, x: x(s.date) - barWidth / 2, y: base - unique, width: barWidth, height: unique,
                              title: "\(s.name): \(formatBytes(s.counts.bytes)) total, \(formatBytes(point.unique ?? 0)) unique, \(plural(s.counts.files, "file"))"))
            if s.status != .complete {
                marks.append("<circle class=\"incomplete\" cx=\"\(f(x(s.date)))\" cy=\"\(f(Self.bytesTop - 14))\" r=\"7\" fill=\"\(Color.incomplete.rawValue)\">"
                             + "<title>\(escape(s.name)): incomplete (\(plural(s.counts.skipped, "file")) skipped)</title></circle>")
            }
        }
        return marks
    }

    var changesPanel: [String] {
        let counts = points.map(Self.changeCounts)
        let top = counts.map { $0.0 + $0.1 + $0.2 }.max() ?? 0
        let scale = Self.changesHeight / Double(max(top, 1))
        // One snapshot has nothing to compare with: say so rather than draw an axis from 0 to 0.
        guard points.count > 1 else {
            return ["<text x=\"\(f(Self.left))\" y=\"\(f(Self.changesTop + Self.changesHeight / 2))\">changes show from the second snapshot on</text>"]
        }
        var marks = [axisLabels(top: Self.changesTop, height: Self.changesHeight, maximum: "\(max(top, 1))", title: "changes")]
        for (point, (added, deleted, changed)) in zip(points, counts) where added + deleted + changed > 0 {
            var y = Self.changesTop + Self.changesHeight
            let title = "\(point.snapshot.name): \(added) added, \(deleted) deleted, \(changed) changed"
            for (kind, color, count) in [("added", Color.added, added), ("deleted", .deleted, deleted), ("changed", .modified, changed)] where count > 0 {
                let height = Double(count) * scale
                y -= height
                marks.append(rect("change-\(kind)", color, x: x(point.snapshot.date) - barWidth / 2, y: y, width: barWidth, height: height, title: title))
            }
        }
        return marks
    }

    /// Added, deleted, and changed in any other way (content, type, metadata, renamed).
    static func changeCounts(_ point: TimelinePoint) -> (Int, Int, Int) {
        guard let c = point.changes?.counts else { return (0, 0, 0) }
        let changed: Int = [ChangeKind.modified, .typeChanged, .metadata, .renamed].reduce(0) { $0 + (c[$1] ?? 0) }
        return (c[.added] ?? 0, c[.deleted] ?? 0, changed)
    }

    /// A line through both panels, and a label above it: seen without pointing at it.
    var failureMarks: [String] {
        failures.flatMap { failure in
            [rect("failed-push", .failed, x: x(failure.date) - 2, y: Self.bytesTop - 24, width: 4,
                  height: Self.changesTop + Self.changesHeight - Self.bytesTop + 24,
                  title: "push failed \(failure.date.displayText): \(failure.message)"),
             "<text class=\"failed-label\" x=\"\(f(x(failure.date)))\" y=\"\(f(Self.bytesTop - 28))\" text-anchor=\"middle\" "
                 + "fill=\"\(Color.failed.rawValue)\">failed</text>"]
        }
    }

    var pathStrip: [String] {
        var marks = ["<text x=\"8\" y=\"\(f(Self.pathTop + 4))\">\(escape(Printable.path(tracked?.bytes ?? [])))</text>"]
        for point in points where point.trackedPresent || point.trackedChanged {
            let changed = point.trackedChanged
            marks.append("<circle class=\"\(changed ? "path-change" : "path-same")\" cx=\"\(f(x(point.snapshot.date)))\" cy=\"\(f(Self.pathTop))\" "
                         + "r=\"\(changed ? 8 : 3)\" fill=\"\(changed ? Color.path.rawValue : "#999999")\"><title>\(escape(point.snapshot.name)): "
                         + "\(changed ? (point.trackedPresent ? "changed" : "gone") : "unchanged")</title></circle>")
        }
        return marks
    }

    /// Five dates along the chart (one when there is one), each under a tick where it falls.
    func timeAxis(bottom: Double) -> [String] {
        let dates = points.map(\.snapshot.date) + failures.map(\.date)
        guard let first = dates.min(), let last = dates.max() else {
            return ["<text x=\"\(f(Self.left))\" y=\"\(f(bottom))\">no snapshots yet</text>"]
        }
        let span = last.seconds - first.seconds
        let ticks = span == 0 ? [first] : (0...4).map { Timestamp(seconds: first.seconds + span * Int64($0) / 4) }
        // Days apart, the day says enough; hours apart, the minute; closer, the second is what differs.
        let width = span >= 2 * 86_400 ? 10 : span >= 2 * 3600 ? 16 : 19
        let shown: (Timestamp) -> String = { String($0.displayText.prefix(width)) }
        return ticks.enumerated().map { index, date in
            let anchor = ticks.count == 1 ? "middle" : index == 0 ? "start" : index == ticks.count - 1 ? "end" : "middle"
            return "<line class=\"tick\" x1=\"\(f(x(date)))\" y1=\"\(f(bottom - 22))\" x2=\"\(f(x(date)))\" y2=\"\(f(bottom - 16))\" stroke=\"#888888\"/>"
                + "<text class=\"date\" x=\"\(f(x(date)))\" y=\"\(f(bottom))\" text-anchor=\"\(anchor)\">\(escape(shown(date)))</text>"
        }
    }

    func axisLabels(top: Double, height: Double, maximum: String, title: String) -> String {
        "<line x1=\"\(f(Self.left))\" y1=\"\(f(top + height))\" x2=\"\(f(Self.width - Self.right))\" y2=\"\(f(top + height))\" stroke=\"#888888\"/>"
            + "<text x=\"8\" y=\"\(f(top + 10))\">\(escape(maximum))</text><text x=\"8\" y=\"\(f(top + height))\">0</text>"
            + "<text x=\"8\" y=\"\(f(top + height / 2))\">\(escape(title))</text>"
    }

    func rect(_ kind: String, _ color: Color, x: Double, y: Double, width: Double, height: Double, title: String) -> String {
        "<rect class=\"\(kind)\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(width))\" height=\"\(f(max(height, 0)))\" fill=\"\(color.rawValue)\">"
            + "<title>\(escape(title))</title></rect>"
    }

    // MARK: The tables

    var failureTable: String {
        guard !failures.isEmpty else { return "" }
        let rows = failures.reversed().map { "<tr><td>\(escape($0.date.displayText))</td><td>\(escape($0.message))</td></tr>" }
        return "<h2>Failed pushes</h2><table id=\"failures\"><tr><th>date</th><th>why</th></tr>\n" + rows.joined(separator: "\n") + "\n</table>"
    }

    var table: String {
        let rows = points.reversed().map { point -> String in
            let s = point.snapshot
            let (added, deleted, changed) = Self.changeCounts(point)
            let changes = point.unreadable ? "unreadable" : point.changes == nil ? "first" : "+\(added) −\(deleted) ~\(changed)"
            return "<tr><td>\(escape(s.date.displayText))</td><td>\(s.shortID)</td><td>\(s.counts.files)</td><td>\(formatBytes(s.counts.bytes))</td>"
                + "<td>\(point.unique.map(formatBytes) ?? "?")</td><td>\(changes)</td><td>\(s.status.rawValue)</td><td>\(escape(s.message))</td></tr>"
        }
        return "<table id=\"snapshots\"><tr><th>date</th><th>id</th><th>files</th><th>bytes</th><th>unique</th><th>changes</th><th>status</th><th>message</th></tr>\n"
            + rows.joined(separator: "\n") + "\n</table>"
    }
}

private func f(_ value: Double) -> String { String(Int(value.rounded())) }

/// Text as HTML shows it: markup characters escaped.
func escape(_ text: String) -> String {
    var out = ""
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}
