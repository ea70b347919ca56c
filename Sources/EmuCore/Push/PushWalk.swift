import EmuPOSIX
import EmuRecords

/// What the planner walks, in path order: a live tree (`TreeScanner`: the
/// source, `watch`'s changed directories, a backup being imported), or a
/// snapshot's records (`emu replicate`'s walk of another sink's snapshot).
/// Each entry comes as its record and where it is (`SourceEntry`, whose
/// status the change test compares with the newest snapshot's records).
package protocol PushWalk: AnyObject {
    /// The next entry's record; nil after the last.
    func next() throws -> ManifestRecord?
    /// Where the entry `next()` returned last is.
    var entry: SourceEntry { get }
    /// Entries left out since last asked, and why.
    func takeNotes() -> [(RelativePath, String)]
    /// Entries that could not be read, with why.
    var unreadable: [(RelativePath, Error)] { get }
    /// Whether the records hold each file's content hash and xattr digest
    /// already (a snapshot's): a new file is then not read to be asked about.
    var recordsHoldHashes: Bool { get }
    /// The xattrs and ACLs of the entry `record` describes, read where it is.
    func attributes(of record: ManifestRecord, at entry: SourceEntry) throws -> [ExtendedAttribute]
}

extension TreeScanner: PushWalk {
    package var entry: SourceEntry {
        SourceEntry(directory: lastDirectory ?? root, name: lastName, status: lastStatus!, opened: lastEntered)
    }

    package var recordsHoldHashes: Bool { false }

    package func attributes(of record: ManifestRecord, at source: SourceEntry) throws -> [ExtendedAttribute] {
        guard let name = source.name else { return try ExtendedAttributes.read(.file(source.directory.file)) }
        if record.kind == .directory { return try ExtendedAttributes.read(.entry(source.directory, name)) }
        do { return try ExtendedAttributes.read(.entry(source.directory, name)) } catch let error as FileSystemError where error.isUnsupported {
            return []
        }
    }
}
