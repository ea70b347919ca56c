import EmuPOSIX
import EmuRecords

/// Why a file was copied into a snapshot rather than linked.
public enum CopyReason: String, Sendable {
    /// No earlier snapshot had this path.
    case new
    /// Its bytes differ from the earlier snapshot's.
    case content
    /// Same bytes, but mode, owner, mtime, xattrs or ACLs differ: a new inode.
    case metadata
}

/// Hears what a push does as it does it: the CLI prints, tests count.
public protocol PushObserver: AnyObject {
    /// An entry that could not be read: it is missing from the snapshot.
    func skipped(_ path: RelativePath, because error: Error)
    /// Something worth a line that does not make the snapshot incomplete.
    func noted(_ path: RelativePath, _ message: String)
    func copied(_ path: RelativePath, reason: CopyReason, bytes: Int64)
    func progressed(files: Int, bytes: Int64)
    /// A new or changed file whose content and metadata the sink held already
    /// (moved, copied, restored): linked to that inode, its copy dropped.
    func reused(_ path: RelativePath, bytes: Int64)
    /// A snapshot the retention policy removed after the push.
    func expired(_ snapshot: Snapshot, _ reasons: [String])
    /// Something the user must hear about the sink (rotation that could not help).
    func warned(_ message: String)
    /// The push has the sink locked and its snapshots listed: `newest`
    /// (nil for a first push) is what it compares the source with.
    func began(after newest: Snapshot?)
}

extension PushObserver {
    package func began(after newest: Snapshot?) {}
}

/// A file's identity in the source, to find its other hardlinked names.
package struct FileIdentity: Hashable {
    package var device: UInt64
    package var inode: UInt64
    package init(_ status: FileStatus) { device = status.device; inode = status.inode }
    package init(device: UInt64, inode: UInt64) { self.device = device; self.inode = inode }
}

/// Hears nothing: for the dry run that measures a push.
package final class SilentPushObserver: PushObserver {
    package init() {}

    package func skipped(_ path: RelativePath, because error: Error) {}
    package func noted(_ path: RelativePath, _ message: String) {}
    package func copied(_ path: RelativePath, reason: CopyReason, bytes: Int64) {}
    package func progressed(files: Int, bytes: Int64) {}
    package func reused(_ path: RelativePath, bytes: Int64) {}
    package func expired(_ snapshot: Snapshot, _ reasons: [String]) {}
    package func warned(_ message: String) {}
}
