import EmuPOSIX
import EmuCore
import EmuRecords

/// Where `emu replicate` reads a snapshot it copies: the xattrs of an entry
/// whose record says it has some, and a new file's bytes. A local sink's
/// tree is opened here; a server's is asked (`restore`), each file's bytes
/// spooled into a scratch file before they are sent on.
package protocol ReplicaTree: AnyObject {
    /// The directory that holds the entry at `path`, and its name there (nil for the root).
    func place(of path: RelativePath) throws -> (DirectoryHandle, FileName?)
    /// The xattrs and ACLs of the entry `record` describes, read now.
    func attributes(of record: ManifestRecord) throws -> [ExtendedAttribute]
    /// Opens a planned file's bytes, when they are not its name in a local directory.
    var opensBytes: ((PlannedFile) throws -> OpenFile)? { get }
}

/// A snapshot of a sink on this machine: its tree, read in path order.
package final class LocalReplicaTree: ReplicaTree {
    package let tree: DirectoryCursor

    package init(_ root: DirectoryHandle) { tree = DirectoryCursor(root: root) }

    package func place(of path: RelativePath) throws -> (DirectoryHandle, FileName?) {
        path.isRoot ? (tree.root, nil) : try tree.parentAndName(of: path)
    }

    package func attributes(of record: ManifestRecord) throws -> [ExtendedAttribute] {
        let (directory, name) = try place(of: record.path)
        return try ExtendedAttributes.read(name.map { .entry(directory, $0) } ?? .file(directory.file))
    }

    package var opensBytes: ((PlannedFile) throws -> OpenFile)? { nil }
}

/// A snapshot on a server: each read one round trip on its channel (the
/// records were spooled before, so the channel is free).
package final class RemoteReplicaTree: ReplicaTree {
    package let tree: RemoteTree
    /// Where a file's bytes wait between the two channels; the directory
    /// every entry is said to be in (nothing is read there by name).
    package let scratch: DirectoryHandle

    package init(_ tree: RemoteTree) throws {
        self.tree = tree
        scratch = try DirectoryHandle.open(scratchDirectory())
    }

    package func place(of path: RelativePath) throws -> (DirectoryHandle, FileName?) { (scratch, path.lastName) }

    package func attributes(of record: ManifestRecord) throws -> [ExtendedAttribute] {
        try tree.ask(record.path, content: false)
        try tree.sink.channel.writer.flush()
        return try tree.receive(into: nil)
    }

    package var opensBytes: ((PlannedFile) throws -> OpenFile)? {
        { [tree, scratch] file in
            let spooled = try scratch.createScratchFile()
            try tree.ask(file.record.path, content: true)
            try tree.sink.channel.writer.flush()
            _ = try tree.receive(into: spooled)  // written at offsets: it reads from its start
            return spooled
        }
    }
}
