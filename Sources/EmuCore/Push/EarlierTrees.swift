import EmuPOSIX
import EmuRecords

/// Whether a killed push's copy holds what its record says. Nothing that
/// push wrote was synced: after a power cut its record may be on disk while
/// its bytes are not (a file of zeros, or empty), so the copy is read and
/// hashed before anything links to it. Reading it still saves the write.
package func resumedCopyIsIntact(_ name: FileName, in directory: DirectoryHandle, record: ManifestRecord, copier: DataCopier) -> Bool {
    guard let content = record.content, let status = try? directory.status(name), status.kind == .regular,
          status.size == record.size, let (hash, length) = try? hashFile(name, in: directory, copier: copier) else { return false }
    return hash == content && length == record.size
}

/// An earlier tree's directory at the walk's current path, opened on first
/// use from its parent's handle: one openat per directory linked from, and
/// each link names one entry (no path walk per file, as a path from the
/// tree's root would cost).
package final class EarlierDirectory {
    private let parent: EarlierDirectory?
    private let name: FileName?
    /// nil until asked; then the handle, or nil inside when the tree lacks the directory.
    private var opened: DirectoryHandle??

    package init(root: DirectoryHandle) {
        parent = nil
        name = nil
        opened = .some(root)
    }

    package init(parent: EarlierDirectory, name: FileName) {
        self.parent = parent
        self.name = name
    }

    package func handle() -> DirectoryHandle? {
        if let opened { return opened }
        let handle = name.flatMap { name in try? parent?.handle()?.openDirectory(name) }
        opened = .some(handle)
        return handle
    }
}
