import EmuPOSIX
import EmuRecords

extension Source {
    /// `status.max-age` in seconds: how old a sink's newest snapshot may be
    /// before `emu status` calls it stale.
    public func statusMaxAge() throws -> Int64 {
        let text = try config()["status", "max-age"] ?? Setting.all.first { $0.key == "status.max-age" }!.defaultValue!
        return try RetentionPolicy.parseDuration(text)
    }
}

/// What the source remembers of its pushes for `emu status --check`: the
/// last failed push to each sink, in `SOURCE/.emu/failed/SINK` (a sink that
/// is gone cannot hold the news itself), removed by the next push that works.
public enum PushRecord {
    package static let directoryName = FileName("failed")
    /// How a failure's message begins when the push was cut off (a signal,
    /// a cut connection): what it copied waits for the next push to resume.
    public static let interrupted = "interrupted: "

    public static func recordFailure(of sink: String, in source: Source, message: String) throws {
        if (try? source.metadata.status(directoryName)) == nil {
            try source.metadata.makeDirectory(directoryName, permissions: 0o755)
        }
        let now = Timestamp.now()
        let line = "\(now.iso8601) \(message.replacingNewlines())\n"
        try MetadataFile.write(in: try source.metadata.openDirectory(directoryName), sink, line)
        try appendHistory(of: sink, in: source, "\(now.seconds) \(message.replacingNewlines())\n")
    }

    /// Every failed push is also kept in `SOURCE/.emu/failures/SINK` (the
    /// last `historyLength`), for `emu timeline`.
    package static let historyDirectory = FileName("failures")
    package static let historyLength = 100

    package static func appendHistory(of sink: String, in source: Source, _ line: String) throws {
        if (try? source.metadata.status(historyDirectory)) == nil {
            try source.metadata.makeDirectory(historyDirectory, permissions: 0o755)
        }
        let directory = try source.metadata.openDirectory(historyDirectory)
        let kept = (try MetadataFile.read(in: directory, sink) ?? "").split(separator: "\n").suffix(historyLength - 1)
        try MetadataFile.write(in: directory, sink, kept.map { $0 + "\n" }.joined() + line)
    }

    /// The failed pushes to `sink` this source remembers, oldest first.
    public static func failures(of sink: String, in source: Source) -> [(date: Timestamp, message: String)] {
        guard let directory = try? source.metadata.openDirectory(historyDirectory),
              let text = try? MetadataFile.read(in: directory, sink) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let seconds = Int64(parts[0]) else { return nil }
            return (Timestamp(seconds: seconds), String(parts[1]))
        }
    }

    public static func clearFailure(of sink: String, in source: Source) throws {
        guard let directory = try? source.metadata.openDirectory(directoryName) else { return }
        do { try directory.remove(FileName(sink)) } catch let error as FileSystemError where error.isMissing {}
    }

    /// The failure's date and message, or nil when the last push worked.
    public static func lastFailure(of sink: String, in source: Source) throws -> String? {
        guard let directory = try? source.metadata.openDirectory(directoryName) else { return nil }
        return try MetadataFile.read(in: directory, sink).map { $0.trimmingWhitespace() }
    }
}

/// The newest snapshot this source pushed to each sink, in
/// `SOURCE/.emu/pushed/SINK` (`SECONDS ID`): while a disk sits in a drawer,
/// `status` and `sink` still say how far behind it is.
public enum PushedRecord {
    package static let directoryName = FileName("pushed")

    /// `snapshot` is the newest this source pushed to `sink`; with
    /// `confirmedAt`, a push then (`--skip-if-unchanged`) found the source
    /// as it holds it and made none.
    public static func record(_ snapshot: Snapshot, to sink: String, in source: Source, confirmedAt: Timestamp? = nil) throws {
        if (try? source.metadata.status(directoryName)) == nil {
            try source.metadata.makeDirectory(directoryName, permissions: 0o755)
        }
        let confirmed = confirmedAt.map { " \($0.seconds)" } ?? ""
        try MetadataFile.write(in: try source.metadata.openDirectory(directoryName), sink, "\(snapshot.date.seconds) \(snapshot.id)\(confirmed)\n")
    }

    /// When a push last found the source as `snapshot` of `sink` holds it:
    /// the snapshot is as fresh as that (`status` judges staleness by it).
    public static func confirmed(_ snapshot: Snapshot, of sink: String, in source: Source) -> Timestamp? {
        guard let directory = try? source.metadata.openDirectory(directoryName),
              let words = (try? MetadataFile.read(in: directory, sink))??.split(whereSeparator: \.isWhitespace),
              words.count == 3, words[1] == snapshot.id, let seconds = Int64(words[2]) else { return nil }
        return Timestamp(seconds: seconds)
    }

    /// The date of the newest snapshot pushed to `sink`, or nil when none is known.
    public static func newest(of sink: String, in source: Source) -> Timestamp? {
        guard let directory = try? source.metadata.openDirectory(directoryName),
              let text = try? MetadataFile.read(in: directory, sink),
              let seconds = text.split(separator: " ").first.flatMap({ Int64($0) }) else { return nil }
        return Timestamp(seconds: seconds)
    }
}
