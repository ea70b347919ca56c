import EmuPOSIX
import EmuCore
import EmuRecords

/// What both sides of `emu serve` agree on: the protocol's version, checked
/// in the first frame each way, and how a failure crosses the channel.
///
/// After the hellos the client sends requests, one at a time, each a
/// `request` frame of text lines (the first names what is asked). The
/// server answers each with a `reply`, a stream of `data` frames closed by
/// `end`, or an `error`; a request that fails leaves the session usable.
public enum Wire {
    /// Raised whenever the frames or their meaning change incompatibly.
    public static let protocolVersion = 4
    /// The first line of each side's hello.
    package static let greeting = "emu-serve"
    /// `push-begin`'s answer when the client compared its source with
    /// records other than the server's: it reads them again.
    package static let recordsDiffer = "records differ"
    /// `push-end unless-unchanged`'s answer, with the newest snapshot's ID, when it made none.
    package static let unchanged = "unchanged"
    /// The size of a stream's pieces.
    package static let pieceSize = manifestPieceSize

    /// A failure as an `error` frame: its kind, its message and its fix, a line each.
    package static func frame(for error: Error) -> Frame {
        let failure = error as? EmuError ?? (error as? FileSystemError).map { EmuError($0) } ?? .failed("\(error)")
        let kind = switch failure.kind {
        case .failed: "failed"
        case .usage: "usage"
        case .damaged: "damaged"
        case .locked: "locked"
        }
        return Frame(.error, text: "\(kind)\n\(failure.message)\n\(failure.fix ?? "")")
    }

    /// The failure an `error` frame carries, said as the server's.
    package static func error(from frame: Frame, server: String) -> EmuError {
        let lines = frame.text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let kind: EmuError.Kind = switch lines.first {
        case "usage": .usage
        case "damaged": .damaged
        case "locked": .locked
        default: .failed
        }
        let message = lines.count > 1 ? lines[1] : frame.text
        let fix = lines.count > 2 && !lines[2].isEmpty ? lines[2] : nil
        return EmuError(kind, "\(server): \(message)", fix: fix)
    }

    /// A request's words: the first line of its frame, split at spaces; the
    /// other lines are its arguments that may hold spaces.
    package static func words(of frame: Frame) -> [String] {
        // Split as bytes: one request a file in a restore, so Characters cost much here.
        frame.payload.prefix { $0 != ManifestFormat.newline }.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A snapshot in the `snapshots` listing: a line with its ID (and
/// `scanned` when its sink holds no manifest for it), then its record.
extension Wire {
    package static func listing(_ snapshot: Snapshot) -> String {
        "\(snapshot.id)\(snapshot.recordOrigin == .scannedTree ? " scanned" : "")\n\(snapshot.node.text)"
    }

    /// The snapshot a listing's piece names; nil for a piece without a record.
    package static func snapshot(listed text: String) throws -> Snapshot? {
        guard let newline = text.firstIndex(of: "\n") else { return nil }
        let words = text[..<newline].split(separator: " ")
        var snapshot = try Snapshot(id: words.first.map(String.init) ?? "", node: try INIDocument(parsing: String(text[text.index(after: newline)...])))
        if words.dropFirst() == ["scanned"] { snapshot.recordOrigin = .scannedTree }
        return snapshot
    }
}

/// An entry's xattrs on the wire: a line `xattr NAME-HEX VALUE-HEX` each.
extension Wire {
    package static func lines(of attributes: [ExtendedAttribute]) -> [UInt8] {
        attributes.flatMap { Array("xattr \(RemoteSink.hex($0.name)) \(RemoteSink.hex($0.value))\n".utf8) }
    }

    package static func attribute(_ line: ArraySlice<UInt8>) -> ExtendedAttribute? {
        let fields = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].elementsEqual("xattr".utf8) else { return nil }
        return ExtendedAttribute(name: RemoteSink.bytes(hex: String(decoding: fields[1], as: UTF8.self)),
                                 value: RemoteSink.bytes(hex: String(decoding: fields[2], as: UTF8.self)))
    }
}

/// Bytes on a request's text line (paths, messages, xattrs) as hex, so that
/// no byte of a name can break the line; "-" for none.
extension RemoteSink {
    package static func hex(_ bytes: [UInt8]) -> String {
        bytes.isEmpty ? "-" : String(decoding: hexDigits(bytes), as: UTF8.self)
    }

    /// The bytes of hex digits, two a byte (either case); a pair that is
    /// not one (an odd last digit, "-") is skipped.
    package static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var digits = hex.utf8.lazy.map { $0 >= 0x41 && $0 <= 0x46 ? $0 | 0x20 : $0 }.makeIterator()
        while let high = digits.next(), let low = digits.next() {
            if let high = hexValue(high), let low = hexValue(low) { bytes.append(high << 4 | low) }
        }
        return bytes
    }
}
