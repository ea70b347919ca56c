import CEmuShims
import EmuCore
import EmuPOSIX
import Foundation
import EmuRecords
import EmuRemote

/// The one place `--json` output is made: Codable documents, keys in
/// snake_case and sorted, so that an encoding failure is an error (not an
/// empty document with status 0) and every command spells a key the same way.
/// The schema is documented in emu(1), JSON OUTPUT.
extension Terminal {
    /// Prints one JSON document (or, called once a line, one JSON Lines record).
    func json<Document: Encodable>(_ document: Document) throws {
        let data = try Self.encoder.encode(document)
        var bytes = [UInt8](data)
        bytes.append(0x0A)
        _ = bytes.withUnsafeBytes { emu_write_standard_output($0.baseAddress, $0.count) }
    }

    /// One encoder for the run: `diff --json` encodes a line per change.
    /// (emu is single-threaded where it prints.)
    nonisolated(unsafe) static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()
}

/// A name or path as JSON carries it: `text` is the name itself (bytes that
/// are not UTF-8 shown as U+FFFD); `bytes`, in base64, only when the name is
/// not UTF-8, so that a script can still tell such names apart and open them.
struct JSONName {
    var text: String
    var bytes: String?

    init(_ raw: [UInt8]) {
        if let valid = String(validating: raw, as: UTF8.self) {
            text = valid
            bytes = nil
        } else {
            text = String(decoding: raw, as: UTF8.self)
            bytes = Data(raw).base64EncodedString()
        }
    }

    init(_ path: RelativePath) { self.init(path.bytes) }

    /// A path the user gave or settings hold (a `String` carrying its bytes).
    init(userPath: String) { self.init(userPath.fileSystemBytes) }

    /// The name and its bytes, as a document's `path` and `path_bytes` fields take them.
    var fields: (String, String?) { (text, bytes) }
}

/// A snapshot as every command's JSON shows it.
struct SnapshotJSON: Encodable {
    var sink: String
    var id: String
    var shortId: String
    var name: String
    var date: String
    var parent: String?
    var status: String
    /// Left out when the push gave none, as every key that does not apply is.
    var message: String?
    var files: Int
    var directories: Int
    var bytes: Int64
    var filesCopied: Int
    var filesLinked: Int
    var bytesCopied: Int64
    var skipped: Int
    var uniqueBytes: Int64?
    var head: Bool?
    var verified: String?
    /// `log -- PATH`: what this snapshot changed at the path.
    var changes: [PathChangeJSON]? = nil
    /// `log --all -- PATH`: the version a snapshot that changed nothing there holds.
    var unchanged: PathVersionJSON? = nil

    init(_ snapshot: Snapshot, sink: String, uniqueBytes: Int64? = nil, head: Bool? = nil) {
        self.sink = sink
        id = snapshot.id
        shortId = snapshot.shortID
        name = snapshot.name
        date = snapshot.date.iso8601
        parent = snapshot.parent
        status = snapshot.status.rawValue
        message = snapshot.message.isEmpty ? nil : snapshot.message
        files = snapshot.counts.files
        directories = snapshot.counts.directories
        bytes = snapshot.counts.bytes
        filesCopied = snapshot.counts.filesCopied
        filesLinked = snapshot.counts.filesLinked
        bytesCopied = snapshot.counts.bytesCopied
        skipped = snapshot.counts.skipped
        self.uniqueBytes = uniqueBytes
        self.head = head
        verified = snapshot.verification.map { $0 == "CLEAN" ? "clean" : "damaged" }
    }
}
