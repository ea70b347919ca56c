import EmuPOSIX
import EmuCore
import EmuRecords
import EmuRemote

/// One line of `diff --json` (JSON Lines: one object per change).
struct ChangeJSON: Encodable {
    var status: String
    var path: String
    var pathBytes: String?
    var oldPath: String?
    var oldPathBytes: String?
    var size: Int64?

    init(_ change: Change) {
        status = change.kind.rawValue
        (path, pathBytes) = JSONName(change.path).fields
        if let old = change.oldPath { (oldPath, oldPathBytes) = JSONName(old).fields }
        let record = change.new ?? change.old
        size = record?.kind == .regular ? record?.size : nil
    }
}

/// What changed, counted: `diff --stat --json`, and `status` per sink.
struct ChangeCountsJSON: Encodable {
    var added: Int
    var deleted: Int
    var modified: Int
    var typeChanged: Int
    var metadata: Int
    var renamed: Int
    var bytesAdded: Int64
    var bytesRemoved: Int64

    init(_ summary: DiffSummary) {
        func count(_ kind: ChangeKind) -> Int { summary.counts[kind] ?? 0 }
        added = count(.added)
        deleted = count(.deleted)
        modified = count(.modified)
        typeChanged = count(.typeChanged)
        metadata = count(.metadata)
        renamed = count(.renamed)
        bytesAdded = summary.bytesAdded
        bytesRemoved = summary.bytesRemoved
    }

    var total: Int { added + deleted + modified + typeChanged + metadata + renamed }
}

/// One line of `find --json` (JSON Lines: one object per match).
struct FoundJSON: Encodable {
    var sink: String
    var snapshot: String
    var name: String
    var date: String
    var path: String
    var pathBytes: String?
    /// file, directory, link, pipe, character-device or block-device.
    var type: String
    var size: Int64?
    var modified: String

    init(_ record: ManifestRecord, snapshot: Snapshot, sink: String) {
        self.sink = sink
        self.snapshot = snapshot.id
        name = snapshot.name
        date = snapshot.date.iso8601
        (path, pathBytes) = JSONName(record.path).fields
        type = record.kind.typeName
        size = record.kind == .regular ? record.size : nil
        modified = Timestamp(seconds: record.modified.seconds).iso8601
    }
}

extension FileKind {
    /// The kind's name in JSON documents (`show`, `find`) and listings.
    var typeName: String {
        switch self {
        case .regular: "file"
        case .directory: "directory"
        case .symlink: "link"
        case .fifo: "pipe"
        case .characterDevice: "character-device"
        case .blockDevice: "block-device"
        case .socket: "socket"
        case .unknown: "unknown"
        }
    }
}

/// The last line of `verify --redundancy N --json`, printed also when no file is short.
struct RedundancySummaryJSON: Encodable {
    var required: Int
    var filesChecked: Int
    var filesShort: Int
}

/// One line of `verify --redundancy N --json`: a file on fewer than N sinks.
struct CopiesJSON: Encodable {
    var path: String
    var pathBytes: String?
    var size: Int64
    var copies: Int
    var sinks: [String]

    init(_ copies: FileCopies) {
        (path, pathBytes) = JSONName(copies.record.path).fields
        size = copies.record.size
        self.copies = copies.sinks.count
        sinks = copies.sinks
    }
}

/// One change in `log --json -- PATH`: what happened, and the version after it.
struct PathChangeJSON: Encodable {
    var change: String
    var path: String
    var pathBytes: String?
    var oldPath: String?
    var oldPathBytes: String?
    var version: PathVersionJSON?
    /// For a deletion: the snapshot that holds the last version.
    var lastIn: String?

    init(_ change: Change, lastIn previous: Snapshot?) {
        self.change = Emu.Diff.name(change.kind)
        (path, pathBytes) = JSONName(change.path).fields
        if let old = change.oldPath { (oldPath, oldPathBytes) = JSONName(old).fields }
        version = change.new.map(PathVersionJSON.init)
        if change.kind == .deleted { lastIn = previous?.id }
    }
}

/// A version of a path: its type, size (files only) and mtime.
struct PathVersionJSON: Encodable {
    var path: String
    var pathBytes: String?
    var type: String
    var size: Int64?
    var modified: String

    init(_ record: ManifestRecord) {
        (path, pathBytes) = JSONName(record.path).fields
        type = record.kind.typeName
        size = record.kind == .regular ? record.size : nil
        modified = Timestamp(seconds: record.modified.seconds).iso8601
    }
}
