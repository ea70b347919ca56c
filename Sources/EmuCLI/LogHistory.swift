import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

/// `emu log -- PATH`: what each snapshot did to PATH (a file's versions),
/// newest first; each snapshot is compared with the one before it in its sink.
struct FileHistoryLog {
    let printer: LogPrinter
    let history: FileHistory
    /// Every snapshot, also those where nothing changed at PATH (`--all`).
    let all: Bool
    let count: Int?

    var terminal: Terminal { printer.terminal }

    typealias Shown = (step: PathStep, entry: ResolvedSnapshot)

    /// The steps to print, newest first, as many as `count` allows.
    func steps() throws -> [Shown] {
        var ordered: [String: [Snapshot]] = [:]
        var steps: [Shown] = []
        for entry in printer.entries {
            if let count, steps.count >= count { break }
            let sink = entry.registration.name
            if ordered[sink] == nil {
                try entry.store.lock(.shared, wait: 0)
                ordered[sink] = try entry.store.snapshots().sorted { ($0.date, $0.id) < ($1.date, $1.id) }
            }
            let list = ordered[sink]!
            let place = list.firstIndex { $0.id == entry.snapshot.id }
            let previous = place.flatMap { $0 > 0 ? list[$0 - 1] : nil }
            let (step, truncated) = try history.step(entry.snapshot, after: previous, in: entry.store, holding: all)
            if truncated > 0 {
                terminal.warning("snapshot \(printer.shortID(entry)): \(truncated) more changes under the path are not listed; `emu diff \(sink):\(previous.map { printer.shortID(of: $0) } ?? "") \(sink):\(printer.shortID(entry)) -- \(history.scopes.map { shellQuoted($0.description) }.joined(separator: " "))` lists them all")
            }
            if all || !step.changes.isEmpty { steps.append((step, entry)) }
        }
        for entry in printer.entries where ordered[entry.registration.name] != nil {
            ordered[entry.registration.name] = nil
            entry.store.unlock()
        }
        return steps
    }

    func printJSON(_ steps: [Shown]) throws {
        try terminal.json(SnapshotListJSON(snapshots: steps.map { step, entry in
            var json = SnapshotJSON(step.snapshot, sink: entry.registration.name, head: printer.isHead(entry))
            json.changes = step.changes.map { PathChangeJSON($0, lastIn: step.previous) }
            json.unchanged = step.held.map(PathVersionJSON.init)
            return json
        }))
    }

    func printLong(_ steps: [Shown]) {
        for (step, entry) in steps {
            let decoration = "(\(entry.registration.name)\(printer.isHead(entry) ? ", HEAD" : ""))"
            terminal.output(terminal.paint("snapshot \(step.snapshot.id)", .yellow, forOutput: true) + " " + decoration)
            terminal.output("Date:     \(step.snapshot.date.displayText)  (\(step.snapshot.date.age()))")
            terminal.output("")
            if step.changes.isEmpty { terminal.output("    \(unchanged(step))") }
            for change in step.changes { terminal.output("    \(describe(change, step: step, entry: entry))") }
            if !step.snapshot.message.isEmpty { terminal.output("\n    \(step.snapshot.message)") }
            terminal.output("")
        }
    }

    func printShort(_ steps: [Shown]) {
        for (step, entry) in steps {
            let id = (printer.manySinks ? entry.registration.name + ":" : "") + printer.shortID(entry)
            let what: String
            switch step.changes.count {
            case 0: what = unchanged(step)
            case 1: what = describe(step.changes[0], step: step, entry: entry)
            default:
                let kinds = Dictionary(grouping: step.changes, by: { Self.word(for: $0.kind) })
                what = "\(step.changes.count) changes: " + kinds.keys.sorted().map { "\(kinds[$0]!.count) \($0)" }.joined(separator: ", ")
            }
            var line = "\(terminal.paint(id, .yellow, forOutput: true))  \(step.snapshot.date.displayText)  \(what)"
            if !step.snapshot.message.isEmpty { line += "  \(step.snapshot.message)" }
            terminal.output(line)
        }
    }

    /// A change as one line: what happened, where, and the version's size and mtime.
    func describe(_ change: Change, step: PathStep, entry: ResolvedSnapshot) -> String {
        let word = Self.word(for: change.kind).padding(toLength: 13, withPad: " ", startingAt: 0)
        let place = change.oldPath.map { "\($0) → \(change.path)" } ?? "\(change.path)"
        guard change.kind != .deleted else {
            let last = step.previous.map { (printer.manySinks ? entry.registration.name + ":" : "") + printer.shortID(of: $0) } ?? "?"
            return "\(word) \(place)  (the last version is in \(last): emu checkout \(last) -- \(shellQuoted(change.path.description)))"
        }
        return "\(word) \(place)" + (change.new.map { "  " + Self.version($0) } ?? "")
    }

    /// What `--all` says of a snapshot that changed nothing at the path.
    func unchanged(_ step: PathStep) -> String {
        guard let held = step.held else { return "not in this snapshot" }
        return "unchanged     \(held.path)  \(Self.version(held))"
    }

    /// A version's size (or kind) and mtime.
    static func version(_ record: ManifestRecord) -> String {
        let what = switch record.kind {
        case .regular: formatBytes(record.size)
        case .symlink: "link to " + String(decoding: record.symlinkTarget ?? [], as: UTF8.self)
        default: record.kind.typeName
        }
        return "\(what), modified \(Timestamp(seconds: record.modified.seconds).displayText)"
    }

    static func word(for kind: ChangeKind) -> String {
        switch kind {
        case .added: "added"
        case .deleted: "deleted"
        case .modified: "modified"
        case .typeChanged: "type changed"
        case .metadata: "metadata only"
        case .renamed: "renamed"
        }
    }
}
