import EmuPOSIX
import EmuRecords

/// What checkout does to one path.
public enum CheckoutAction: String, Sendable {
    /// Makes an entry the target does not have.
    case write
    /// Replaces an entry whose content or type differs.
    case overwrite
    /// Sets mode, owner, xattrs, ACLs and mtime of an entry whose content is right.
    case mend
    /// Removes an entry the snapshot does not hold.
    case remove
}

public protocol CheckoutObserver: AnyObject {
    func planned(_ path: RelativePath, _ action: CheckoutAction)
    func noted(_ path: RelativePath, _ message: String)
    func progressed(files: Int, bytes: Int64)
}
