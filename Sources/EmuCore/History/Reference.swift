import EmuPOSIX
import EmuRecords

/// `[SINK:]SNAPSHOT`: which snapshot of which sink a command means.
public struct SnapshotReference: Sendable, Equatable, CustomStringConvertible {
    public enum Selector: Sendable, Equatable {
        /// HEAD (0), HEAD~N or HEAD^ (N before the newest).
        case head(back: Int)
        /// The oldest.
        case tail
        /// A full ID or a unique prefix of at least 4 hex digits.
        case id(String)
        /// A date name, `2026-11-21 09.15.00`.
        case name(String)
        /// `@DATE`: the newest snapshot at or before it.
        case date(Timestamp)
    }

    public var sink: String?
    public var selector: Selector
    public let text: String

    public var description: String { text }

    /// Parses a reference. A text without `:` that names a registered sink
    /// (`sinkNames`) means that sink's HEAD.
    public init(parsing text: String, sinkNames: [String] = []) throws {
        self.text = text
        var rest = Substring(text)
        if !text.hasPrefix("@"), let colon = text.firstIndex(of: ":") {
            let sinkName = String(text[..<colon])
            // A sink named by its path where no source is (`Source.alone`) is a known name too.
            guard SinkName.isValid(sinkName) || sinkNames.contains(sinkName) else {
                throw Self.malformed(text, why: "'\(sinkName)' is not a sink name")
            }
            sink = sinkName
            rest = text[text.index(after: colon)...]
        } else if sinkNames.contains(text) {
            sink = text
            rest = "HEAD"
        }
        guard let selector = Self.selector(String(rest)) else { throw Self.malformed(text, why: nil) }
        self.selector = selector
    }

    package static func malformed(_ text: String, why: String?) -> EmuError {
        .usage("malformed snapshot reference '\(text)'" + (why.map { ": \($0)" } ?? ""),
               fix: "use [SINK:]SNAPSHOT, where SNAPSHOT is HEAD, HEAD~N, HEAD^, TAIL, an ID prefix of 4+ hex digits, a date name like '2026-11-21 09.15.00', or @DATE")
    }

    /// Whether `text` is a snapshot selector (no sink part): HEAD, an ID prefix, a date...
    public static func isSelector(_ text: String) -> Bool { selector(text) != nil }

    package static func selector(_ text: String) -> Selector? {
        if text == "HEAD" || text.isEmpty { return .head(back: 0) }
        if text == "TAIL" { return .tail }
        if text.hasPrefix("HEAD~") {
            let count = text.dropFirst(5)
            if count.isEmpty { return .head(back: 1) }
            guard let n = Int(count), n >= 0 else { return nil }
            return .head(back: n)
        }
        if text.hasPrefix("HEAD^") {
            let carets = text.dropFirst(4)
            guard carets.allSatisfy({ $0 == "^" }) else { return nil }
            return .head(back: carets.count)
        }
        if text.hasPrefix("@") {
            // `@SECONDS` is a moment since the epoch, anything else a local date.
            let date = text.dropFirst()
            let epoch = !date.isEmpty && date.allSatisfy { $0.isNumber || $0 == "." }
            return Timestamp.parse(epoch ? text : String(date), dayEnd: true).map(Selector.date)
        }
        if Timestamp.isSnapshotName(text) { return .name(text) }
        let lower = text.lowercased()
        if (4...40).contains(lower.utf8.count), lower.utf8.allSatisfy({ hexValue($0) != nil }) { return .id(lower) }
        return nil
    }

    /// The one snapshot meant, among a sink's snapshots (oldest first).
    public func resolve(in snapshots: [Snapshot], sinkName: String) throws -> Snapshot {
        func missing(_ what: String) -> EmuError {
            snapshots.isEmpty
                ? .usage("sink '\(sinkName)' has no snapshots yet", fix: "make one with `emu push \(sinkName)`")
                : .usage("no snapshot \(what) in sink '\(sinkName)'", fix: "list them with `emu log \(sinkName)`")
        }
        switch selector {
        case .head(let back):
            guard back < snapshots.count else {
                throw snapshots.isEmpty ? missing("at all") : missing("'\(text)' (it holds \(snapshots.count))")
            }
            return snapshots[snapshots.count - 1 - back]
        case .tail:
            guard let first = snapshots.first else { throw missing("at all") }
            return first
        case .id(let prefix):
            let matches = snapshots.filter { $0.id.hasPrefix(prefix) }
            guard matches.count <= 1 else {
                throw EmuError.usage("snapshot prefix '\(prefix)' is ambiguous in sink '\(sinkName)': " + matches.map(\.shortID).joined(separator: ", "),
                                     fix: "give more digits of the ID")
            }
            guard let match = matches.first else { throw missing("with ID '\(prefix)'") }
            return match
        case .name(let name):
            guard let match = snapshots.last(where: { $0.name == name }) else { throw missing("named '\(name)'") }
            return match
        case .date(let date):
            guard let match = snapshots.last(where: { $0.date <= date }) else { throw missing("at or before \(text)") }
            return match
        }
    }
}

/// `REF:PATH` as `emu show` takes it: the reference, and a path in the
/// snapshot (nil when there is no `:PATH`; `REF:` alone is the root).
public func splitReferenceAndPath(_ text: String, sinkNames: [String]) throws -> (SnapshotReference, RelativePath?) {
    var sinkPrefix = ""
    var rest = Substring(text)
    if !text.hasPrefix("@"), let colon = text.firstIndex(of: ":"), sinkNames.contains(String(text[..<colon])) {
        sinkPrefix = String(text[...colon])
        rest = text[text.index(after: colon)...]
    }
    var referenceText = rest
    var pathText: Substring? = nil
    if rest.hasPrefix("@") {
        // A date holds colons: take the longest prefix that parses as one.
        var cut = rest.endIndex
        while cut > rest.startIndex {
            let candidate = rest[..<cut]
            if SnapshotReference.selector(String(candidate)) != nil, cut == rest.endIndex || rest[cut] == ":" {
                referenceText = candidate
                pathText = cut == rest.endIndex ? nil : rest[rest.index(after: cut)...]
                break
            }
            cut = rest.index(before: cut)
        }
    } else if let colon = rest.firstIndex(of: ":") {
        referenceText = rest[..<colon]
        pathText = rest[rest.index(after: colon)...]
    }
    let reference = try SnapshotReference(parsing: sinkPrefix + referenceText, sinkNames: sinkPrefix.isEmpty ? sinkNames : [String(sinkPrefix.dropLast())])
    let path = pathText.map { RelativePath(normalized("/" + $0).dropFirst().description) }
    return (reference, path)
}
