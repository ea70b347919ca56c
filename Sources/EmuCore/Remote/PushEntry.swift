import EmuPOSIX

/// One entry of a push over ssh, as one `data` frame: what the client
/// decided for a path of its walk. Encoded and decoded here only; the
/// client's writers (`PushBatches`, the dry run's count) and the server's
/// `PushReceiver` speak these values, never the text.
///
/// The frame is a tag line, then for an entry with a record the record as a
/// manifest line, `leader` when later names of its inode follow, and one
/// `xattr NAME-HEX VALUE-HEX` line per attribute. A `file` entry's bytes
/// follow as `data` frames closed by `end`.
enum PushEntry: Equatable {
    /// What an entry with a record asks the server to make.
    enum Kind: String, CaseIterable, Sendable {
        case directory = "dir"
        /// New bytes, which follow.
        case file
        /// Content the server's index holds as an inode it may share: linked.
        case indexed
        /// Content the server holds under other metadata: copied there.
        case copy
        /// Unchanged since the newest snapshot: the server's own record and inode.
        case link
        /// A cut push's copy the server checks and keeps.
        case resume
        /// Another name of an inode sent before (`record.hardlinkLeader`).
        case hardlink
        case symlink
        case special

        /// Whether the server records the entry as sent (with the digest of
        /// the xattrs that came with it); the others share a record the
        /// server holds (the newest snapshot's, a cut push's, the first name's).
        var recordsWhatWasSent: Bool { ![.link, .resume, .hardlink].contains(self) }
    }

    case entry(Kind, ManifestRecord, attributes: [ExtendedAttribute], leads: Bool)
    /// Unchanged files the newest snapshot's manifest lists one after
    /// another, from its `first`th record.
    case unchanged(first: Int, count: Int)
    /// Files whose content the client asks about; the server answers with a
    /// `ContentIndex.Holding` byte each.
    case query([ManifestRecord])
    /// A path the walk could not read: the snapshot is incomplete.
    case skipped(RelativePath)

    var payload: [UInt8] {
        switch self {
        case .entry(let kind, let record, let attributes, let leads):
            var payload = Array("\(kind.rawValue)\n".utf8)
            ManifestFormat.encode(record, into: &payload)
            if leads { payload += Array("leader\n".utf8) }
            return payload + Wire.lines(of: attributes)
        case .unchanged(let first, let count):
            return Array("links\n\(first) \(count)".utf8)
        case .query(let records):
            var payload = Array("query\n".utf8)
            for record in records { ManifestFormat.encode(record, into: &payload) }
            return payload
        case .skipped(let path):
            return Array("skipped\n".utf8) + path.bytes
        }
    }

    /// The entry a client's frame holds; an error names what was wrong
    /// with it (a client is not trusted to send what emu sends).
    init(decoding payload: [UInt8]) throws {
        let lines = payload.split(separator: ManifestFormat.newline, omittingEmptySubsequences: false)
        guard lines.count >= 2, let tag = String(validating: lines[0], as: UTF8.self) else { throw Self.unknown("") }
        switch tag {
        case "links": self = try Self.run(lines[1])
        case "query": self = .query(try lines.dropFirst().filter { !$0.isEmpty }.map(Self.question))
        case "skipped": self = .skipped(RelativePath(Array(payload.dropFirst(lines[0].count + 1))))
        default:
            guard let kind = Kind(rawValue: tag) else { throw Self.unknown(tag) }
            guard let record = ManifestFormat.decode(lines[1]), record.path.isSafe else {
                throw EmuError.failed("the client sent a damaged record", fix: "push again")
            }
            let rest = lines.dropFirst(2)
            self = .entry(kind, record, attributes: rest.compactMap(Wire.attribute), leads: rest.contains { $0.elementsEqual("leader".utf8) })
        }
    }

    /// Whether a frame holds a question, whose sender waits for the answer.
    static func isQuery(_ payload: [UInt8]) -> Bool { payload.starts(with: Array("query\n".utf8)) }

    static func run(_ words: ArraySlice<UInt8>) throws -> PushEntry {
        let numbers = words.split(separator: UInt8(ascii: " ")).map { Int(String(decoding: $0, as: UTF8.self)) }
        guard numbers.count == 2, let first = numbers[0], let count = numbers[1], first >= 0, count > 0 else {
            throw EmuError.failed("the client sent a damaged run of unchanged files", fix: "push again")
        }
        return .unchanged(first: first, count: count)
    }

    static func question(_ line: ArraySlice<UInt8>) throws -> ManifestRecord {
        guard let record = ManifestFormat.decode(line), record.kind == .regular, record.content != nil else {
            throw EmuError.failed("the client asked about a damaged record", fix: "push again")
        }
        return record
    }

    static func unknown(_ tag: String) -> EmuError {
        EmuError.failed("the client sent a push entry\(tag.isEmpty ? "" : " `\(tag)`") emu does not know",
                        fix: "install the same version of emu on both machines")
    }
}
