import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

/// Prints `emu log`'s entries (already chosen and ordered): long, short or JSON.
struct LogPrinter {
    let terminal: Terminal
    let entries: [ResolvedSnapshot]
    /// Each sink's HEAD id.
    let heads: [String: String]
    /// Whether the entries come from more than one sink: then short lines say which.
    let manySinks: Bool
    /// The short form of each ID, unique in its sink.
    let shortIDs: [String: String]

    init(terminal: Terminal, entries: [ResolvedSnapshot]) {
        self.terminal = terminal
        self.entries = entries
        var heads: [String: String] = [:]
        for entry in entries where heads[entry.registration.name] == nil {
            heads[entry.registration.name] = (try? entry.store.headID()).flatMap { $0 } ?? ""
        }
        self.heads = heads
        manySinks = Set(entries.map(\.registration.name)).count > 1
        var shortIDs: [String: String] = [:]
        for (_, group) in Dictionary(grouping: entries, by: \.registration.name) {
            let all = (try? group[0].store.snapshots()) ?? group.map(\.snapshot)
            shortIDs.merge(Snapshot.uniqueShortIDs(all)) { first, _ in first }
        }
        self.shortIDs = shortIDs
    }

    /// The short form of a snapshot's ID that no other snapshot of its sink begins with.
    func shortID(of snapshot: Snapshot) -> String { shortIDs[snapshot.id] ?? snapshot.shortID }
    func shortID(_ entry: ResolvedSnapshot) -> String { shortID(of: entry.snapshot) }

    func isHead(_ entry: ResolvedSnapshot) -> Bool { heads[entry.registration.name] == entry.snapshot.id }

    func printJSON() throws {
        try terminal.json(SnapshotListJSON(snapshots: entries.map { entry in
            SnapshotJSON(entry.snapshot, sink: entry.registration.name, uniqueBytes: uniqueBytes(of: entry), head: isHead(entry))
        }))
    }

    /// complete or incomplete, and DAMAGED when the last verify found damage in it.
    func status(of snapshot: Snapshot) -> String {
        let made = snapshot.status == .complete
            ? "complete" : terminal.paint("incomplete (\(snapshot.counts.skipped) skipped)", .red, forOutput: true)
        guard let verification = snapshot.verification, verification != "CLEAN" else { return made }
        return made + ", " + terminal.paint("DAMAGED (emu verify)", .red, forOutput: true)
    }

    func printShort() {
        for entry in entries {
            let s = entry.snapshot
            let id = (manySinks ? entry.registration.name + ":" : "") + shortID(entry)
            let unique = uniqueBytes(of: entry).map { "  \(formatBytes($0)) unique" } ?? ""
            var line = "\(terminal.paint(id, .yellow, forOutput: true))  \(s.date.displayText)  \(plural(s.counts.files, "file"))  \(formatBytes(s.counts.bytes))\(unique)  \(status(of: s))"
            if !s.message.isEmpty { line += "  \(s.message)" }
            terminal.output(line)
        }
    }

    func printLong() {
        for entry in entries {
            let s = entry.snapshot
            let decoration = "(\(entry.registration.name)\(isHead(entry) ? ", HEAD" : ""))"
            terminal.output(terminal.paint("snapshot \(s.id)", .yellow, forOutput: true) + " " + decoration)
            terminal.output("Date:     \(s.date.displayText)  (\(s.date.age()))")
            terminal.output("Name:     \(s.name)")
            terminal.output("Files:    \(plural(s.counts.files, "file")), \(plural(s.counts.directories, "directory", "directories")), \(formatBytes(s.counts.bytes))")
            terminal.output("Stored:   \(s.counts.filesCopied) copied (\(formatBytes(s.counts.bytesCopied))), \(s.counts.filesLinked) linked")
            if let unique = uniqueBytes(of: entry) {
                terminal.output("Unique:   \(formatBytes(unique)) of content only this snapshot holds (what pruning it would free)")
            }
            terminal.output("Status:   \(status(of: s))")
            if let verification = s.verification {
                let state = verification == "CLEAN" ? "clean" : terminal.paint("DAMAGED", .red, forOutput: true)
                terminal.output("Verified: \(state)\(s.lastVerified.map { " (\($0))" } ?? "")")
            }
            if !s.message.isEmpty { terminal.output("\n    \(s.message)") }
            terminal.output("")
        }
    }

    /// What pruning the snapshot frees; nil when unknown. A damaged
    /// manifest is reported and the listing goes on.
    func uniqueBytes(of entry: ResolvedSnapshot) -> Int64? {
        do {
            return try entry.store.uniqueBytes(of: entry.snapshot)
        } catch {
            terminal.warning("snapshot \(entry.snapshot.name) (\(entry.snapshot.shortID)) in '\(entry.registration.name)': \(error); `emu verify` says what is damaged, `emu clean --repair` rebuilds the manifest")
            return nil
        }
    }
}
