import EmuPOSIX
import Glibc

/// The record of one snapshot, `SINK/.emu/nodes/ID`: an INI file with emu
/// 0.2.5's sections and keys, and emu's additions (exact time, counts,
/// status). `timestamp` is authoritative; `date` is 0.2.5's readable copy.
public struct Snapshot: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Every entry of the source, minus excludes, is in the snapshot.
        case complete
        /// Some entries could not be read and are missing.
        case incomplete
    }

    public var id: String
    public var parent: String?
    public var date: Timestamp
    /// Its date link's name: one component of the date format (a record
    /// naming anything else is damaged, and the name comes from its date).
    public var name: String
    /// The record named a date link that is not one date-shaped component
    /// (`x/../../escape`, an absolute path): `verify` reports it, `clean --repair` rewrites it.
    public var nameIsDamaged = false
    public var status: Status = .complete
    public var message: String = ""
    public var source: String = ""
    /// The identity of the source pushed (see `SourceIdentity`); empty in a record of an older emu.
    public var sourceID: String = ""
    public var sinkName: String = ""
    public var sinkPath: String = ""
    public var counts = Counts()
    /// The user who pushed it: owners in the tree are the source's only when root did.
    public var pushedBy: UInt32? = geteuid()
    /// `[Tree] Status` and `Last-Verified`, as emu 0.2.5 kept them.
    public var verification: String? = nil
    public var lastVerified: String? = nil
    /// Bytes only this snapshot holds (what pruning it frees), when known.
    public var uniqueBytes: Int64? = nil
    /// Where its records come from, as a server's listing says: a manifest,
    /// or its tree scanned (emu 0.2.5 wrote no manifests). Not part of the
    /// record; a local sink's readers carry their origin themselves, so its
    /// listing does not stat every manifest to fill this.
    public var recordOrigin = RecordOrigin.manifest

    public var madeByRoot: Bool { pushedBy == 0 }

    /// What the snapshot holds and what its push did.
    public struct Counts: Sendable, Equatable {
        public var files = 0
        public var directories = 0
        public var symlinks = 0
        public var specials = 0
        /// Bytes of all regular files.
        public var bytes: Int64 = 0
        public var filesCopied = 0
        public var filesLinked = 0
        /// Bytes written to the sink for this snapshot.
        public var bytesCopied: Int64 = 0
        public var skipped = 0

        public init() {}

        /// Field by field: what the walk and the second core each counted, together.
        public static func += (total: inout Counts, more: Counts) {
            total.files += more.files
            total.directories += more.directories
            total.symlinks += more.symlinks
            total.specials += more.specials
            total.bytes += more.bytes
            total.filesCopied += more.filesCopied
            total.filesLinked += more.filesLinked
            total.bytesCopied += more.bytesCopied
            total.skipped += more.skipped
        }
    }

    public init(id: String, parent: String?, date: Timestamp) {
        self.id = id
        self.parent = parent
        self.date = date
        self.name = date.snapshotName
    }

    public var shortID: String { Self.shortForm(id) }

    /// How an ID is shown: its first 12 digits, the 8 of its second and 4
    /// of its digest. The date alone does not name a snapshot: one push to
    /// two sinks makes two IDs of one second, and a 7-digit prefix spans 16
    /// seconds. A prefix, so it works as a reference.
    public static func shortForm(_ id: some StringProtocol) -> String { String(id.prefix(12)) }

    /// Each ID's shortest prefix of at least 12 digits that no other of
    /// `snapshots` shares: the short form to show. emu's IDs begin with the
    /// second they were made in and a sink holds one snapshot a second, so
    /// 12 digits suffice there; IDs from elsewhere get as many as they need.
    public static func uniqueShortIDs(_ snapshots: [Snapshot]) -> [String: String] {
        let ids = snapshots.map(\.id).sorted()
        func shared(_ a: String, _ b: String) -> Int { zip(a, b).prefix { $0 == $1 }.count }
        var result: [String: String] = [:]
        for (index, id) in ids.enumerated() {
            let before = index > 0 ? shared(ids[index - 1], id) : 0
            let after = index + 1 < ids.count ? shared(ids[index + 1], id) : 0
            result[id] = String(id.prefix(max(12, max(before, after) + 1)))
        }
        return result
    }

    /// An ID: 40 hex digits, the first 8 the time (so IDs sort by date, as in
    /// emu 0.2.5), the rest a digest of the content, parent and time.
    package static func makeID(date: Timestamp, manifest: ContentHash, parent: String?) -> String {
        var hasher = ContentHasher()
        hasher.update(manifest.bytes)
        hasher.update(Array((parent ?? "").utf8))
        hasher.update(Array(date.description.utf8))
        return datePrefix(date) + String(hasher.finalize().description.prefix(32))
    }

    /// The 8 hex digits an ID begins with: its date in seconds, so that IDs sort by date.
    package static func datePrefix(_ date: Timestamp) -> String {
        let seconds = String(UInt32(truncatingIfNeeded: date.seconds), radix: 16)
        return String(repeating: "0", count: 8 - seconds.count) + seconds
    }

    /// emu writes 40 hex digits; emu 0.2.5 wrote the time and a sha1 (48).
    public static func isID(_ text: String) -> Bool {
        (40...64).contains(text.utf8.count) && text.utf8.allSatisfy { hexValue($0) != nil }
    }

    public var node: INIDocument {
        var d = INIDocument()
        d["Snapshot", "snapshot"] = id
        d["Snapshot", "parent"] = parent ?? ""
        d["Snapshot", "name"] = name
        d["Snapshot", "date"] = date.legacyText
        d["Snapshot", "timestamp"] = date.description
        d["Snapshot", "checksum"] = "sha256"
        d["Snapshot", "size"] = String(counts.bytes)
        d["Snapshot", "status"] = status.rawValue
        d["Snapshot", "message"] = message
        d["Tree", "files"] = String(counts.files)
        d["Tree", "directories"] = String(counts.directories)
        d["Tree", "symlinks"] = String(counts.symlinks)
        d["Tree", "specials"] = String(counts.specials)
        d["Tree", "bytes"] = String(counts.bytes)
        d["Tree", "files-copied"] = String(counts.filesCopied)
        d["Tree", "files-linked"] = String(counts.filesLinked)
        d["Tree", "bytes-copied"] = String(counts.bytesCopied)
        d["Tree", "skipped"] = String(counts.skipped)
        d["Stack", "source"] = source
        if !sourceID.isEmpty { d["Stack", "source-id"] = sourceID }
        d["Stack", "stack"] = sinkName
        d["Stack", "path"] = sinkPath
        if let uniqueBytes { d["Tree", "unique-size"] = String(uniqueBytes) }
        if let verification { d["Tree", "Status"] = verification }
        if let lastVerified { d["Tree", "Last-Verified"] = lastVerified }
        d["Emu", "emu-version"] = emuVersion
        if let pushedBy { d["Emu", "uid"] = String(pushedBy) }
        d["Emu", "format"] = "1"
        return d
    }

    /// Reads a record; `id` is the file's name, which wins over its contents.
    public init(id: String, node d: INIDocument) throws {
        self.id = id
        let parentText = d["Snapshot", "parent"] ?? ""
        parent = parentText.isEmpty ? nil : parentText
        guard let date = d["Snapshot", "timestamp"].flatMap({ Timestamp(exact: $0) }) ?? d["Snapshot", "name"].flatMap({ Timestamp.parse($0) }) else {
            throw EmuError.failed("the record of snapshot \(id) has no readable date", fix: "run `emu verify` on this sink")
        }
        self.date = date
        // The name becomes a link in the sink's root: never a path, whatever the record says.
        let recordedName = d["Snapshot", "name"]
        name = recordedName.flatMap { Timestamp.isSnapshotName($0) ? $0 : nil } ?? date.snapshotName
        nameIsDamaged = recordedName != nil && recordedName != name
        status = Status(rawValue: d["Snapshot", "status"] ?? "") ?? .complete
        message = d["Snapshot", "message"] ?? ""
        source = d["Stack", "source"] ?? ""
        sourceID = d["Stack", "source-id"].flatMap { SourceIdentity.isValid($0) ? $0 : nil } ?? ""
        sinkName = d["Stack", "stack"] ?? ""
        sinkPath = d["Stack", "path"] ?? ""
        // A count that is not a number of zero or more (a damaged or forged record) reads as unknown, 0.
        func int(_ section: String, _ key: String) -> Int { Int(d[section, key] ?? "").flatMap { $0 >= 0 ? $0 : nil } ?? 0 }
        func int64(_ text: String?) -> Int64 { Int64(text ?? "").flatMap { $0 >= 0 ? $0 : nil } ?? 0 }
        counts.files = int("Tree", "files")
        counts.directories = int("Tree", "directories")
        counts.symlinks = int("Tree", "symlinks")
        counts.specials = int("Tree", "specials")
        counts.bytes = int64(d["Tree", "bytes"] ?? d["Snapshot", "size"])
        counts.filesCopied = int("Tree", "files-copied")
        counts.filesLinked = int("Tree", "files-linked")
        counts.bytesCopied = int64(d["Tree", "bytes-copied"])
        counts.skipped = int("Tree", "skipped")
        pushedBy = d["Emu", "uid"].flatMap { UInt32($0) }
        verification = d["Tree", "Status"]
        uniqueBytes = d["Tree", "unique-size"].flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
        lastVerified = d["Tree", "Last-Verified"]
    }
}

public let emuVersion = "0.3.0"

extension String {
    /// One line: every line feed and carriage return (a CRLF is one Character, so scalars are mapped) becomes a space.
    package func replacingNewlines() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : $0 }))
    }
}
