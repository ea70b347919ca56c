import EmuPOSIX
import EmuRecords

/// One entry of a push: what the planner decided for a path of its walk,
/// which every writer carries out (see `PushWriter`); over ssh, one `data`
/// frame (encoded and decoded in `PushEntryWire.swift` only).
package enum PushEntry: Equatable {
    /// What an entry with a record asks the server to make.
    package enum Kind: String, CaseIterable, Sendable {
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
        package var recordsWhatWasSent: Bool { ![.link, .resume, .hardlink].contains(self) }

        /// Whether an entry of this kind may carry `record`: its type, and
        /// for another name of a file, the first name it shares.
        package func holds(_ record: ManifestRecord) -> Bool {
            switch self {
            case .directory: record.kind == .directory
            case .symlink: record.kind == .symlink
            case .special: [.fifo, .characterDevice, .blockDevice].contains(record.kind)
            case .hardlink: record.kind == .regular && record.hardlinkLeader != nil
            case .file, .indexed, .copy, .link, .resume: record.kind == .regular
            }
        }
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
}
