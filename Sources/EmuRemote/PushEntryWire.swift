import EmuCore
import EmuPOSIX
import EmuRecords

/// A `PushEntry` as one `data` frame of a push over ssh. Encoded and decoded
/// here only; the client's wire writer (`PushBatches`) and the server's
/// `PushReceiver` speak the values, never the text.
///
/// The frame is a tag line, then for an entry with a record the record as a
/// manifest line, `leader` when later names of its inode follow, and one
/// `xattr NAME-HEX VALUE-HEX` line per attribute. A `file` entry's bytes
/// follow as `data` frames closed by `end`.
extension PushEntry {
    package var payload: [UInt8] {
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
    package init(decoding payload: [UInt8]) throws {
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
            guard kind.holds(record) else {
                throw EmuError.failed("the client sent \(record.path.quotedForMessage) as a `\(tag)` entry whose record says otherwise", fix: "push again")
            }
            let rest = lines.dropFirst(2)
            self = .entry(kind, record, attributes: rest.compactMap(Wire.attribute), leads: rest.contains { $0.elementsEqual("leader".utf8) })
        }
    }

    /// Whether a frame holds a question, whose sender waits for the answer.
    package static func isQuery(_ payload: [UInt8]) -> Bool { payload.starts(with: Array("query\n".utf8)) }

    package static func run(_ words: ArraySlice<UInt8>) throws -> PushEntry {
        let numbers = words.split(separator: UInt8(ascii: " ")).map { Int(String(decoding: $0, as: UTF8.self)) }
        guard numbers.count == 2, let first = numbers[0], let count = numbers[1], first >= 0, count > 0 else {
            throw EmuError.failed("the client sent a damaged run of unchanged files", fix: "push again")
        }
        return .unchanged(first: first, count: count)
    }

    package static func question(_ line: ArraySlice<UInt8>) throws -> ManifestRecord {
        guard let record = ManifestFormat.decode(line), record.kind == .regular, record.content != nil else {
            throw EmuError.failed("the client asked about a damaged record", fix: "push again")
        }
        return record
    }

    package static func unknown(_ tag: String) -> EmuError {
        EmuError.failed("the client sent a push entry\(tag.isEmpty ? "" : " `\(tag)`") emu does not know",
                        fix: "install the same version of emu on both machines")
    }
}
