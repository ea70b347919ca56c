import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

/// A snapshot found from a reference, with the sink it lives in.
struct ResolvedSnapshot {
    var registration: SinkRegistration
    var store: any SinkStore
    var snapshot: Snapshot
}

extension Source {
    /// The sink a reference names, or the default sink.
    func sinkRegistration(for reference: SnapshotReference) throws -> SinkRegistration {
        if let name = reference.sink { return try sink(named: name) }
        return try defaultSink()
    }

    /// Refuses a reference whose sink part names no registered sink, and a
    /// bare word that is neither a sink nor a snapshot, with the error about
    /// the sink (not "malformed reference"): `emu log nosuch`, `show nosuch:HEAD`.
    func checkSinkPart(of text: String) throws {
        let names = try sinks().map(\.name)
        guard !text.hasPrefix("@") else { return }
        if let colon = text.firstIndex(of: ":") {
            let prefix = String(text[..<colon])
            if SinkName.isValid(prefix), !names.contains(prefix), !SnapshotReference.isSelector(prefix) { _ = try sink(named: prefix) }
        } else if SinkName.isValid(text), !names.contains(text), !SnapshotReference.isSelector(text) {
            let known = names.isEmpty ? "no sinks are registered" : "known sinks: " + names.joined(separator: ", ")
            throw EmuError.usage("'\(text)' is neither a sink nor a snapshot (\(known))",
                                 fix: "name a sink, or a snapshot as HEAD, HEAD~N, TAIL, an ID prefix, a date name or @DATE")
        }
    }

    /// Resolves `[SINK:]SNAPSHOT` to one snapshot of an online sink.
    func resolve(_ text: String) throws -> ResolvedSnapshot {
        try checkSinkPart(of: text)
        let reference = try SnapshotReference(parsing: text, sinkNames: try sinks().map(\.name))
        let registration = try sinkRegistration(for: reference)
        let sink = try openOnlineSink(registration)
        let snapshot = try reference.resolve(in: try sink.snapshots(), sinkName: registration.name)
        return ResolvedSnapshot(registration: registration, store: sink, snapshot: snapshot)
    }

    /// Several references, where a sink name alone means all its snapshots.
    func resolveMany(_ texts: [String]) throws -> [ResolvedSnapshot] {
        let names = try sinks().map(\.name)
        var result: [ResolvedSnapshot] = []
        for text in texts {
            if names.contains(text) {
                let registration = try sink(named: text)
                let sink = try openOnlineSink(registration)
                result += try sink.snapshots().map { ResolvedSnapshot(registration: registration, store: sink, snapshot: $0) }
            } else {
                result.append(try resolve(text))
            }
        }
        return result
    }
}

extension Source {
    /// A path given on the command line as a path in a snapshot: relative to
    /// the working directory when that is inside the source, else to the source.
    func snapshotPath(_ text: String) throws -> RelativePath {
        let cwd = resolvedPath(".") ?? path
        let base = isPath(cwd, within: path) ? cwd : path
        let absolute = text.hasPrefix("/") ? absolutePath(text) : absolutePath(base + "/" + text)
        guard isPath(absolute, within: path), absolute != path else {
            throw EmuError.usage("\(RelativePath(text).quotedForMessage) is not a path inside the source \(path.quotedForDisplay)", fix: "name files and directories below the source")
        }
        return RelativePath(String(absolute.dropFirst(path == "/" ? 1 : path.count + 1)))
    }
}
