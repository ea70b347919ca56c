import EmuPOSIX
import EmuCore
import EmuRecords

/// Where `emu replicate` reads a snapshot it copies: the xattrs of an entry
/// whose record says it has some, and a new file's bytes. A local sink's
/// tree is opened here; a server's is asked (`restore`), each file's bytes
/// spooled into a scratch file before they are sent on.
package protocol ReplicaTree: AnyObject {
    /// The xattrs and ACLs of the entry `record` describes, read now.
    func attributes(of record: ManifestRecord) throws -> [ExtendedAttribute]
    /// A new or changed file of the snapshot, as the wire sends it.
    func plannedFile(_ record: ManifestRecord, attributes: [ExtendedAttribute], leads: Bool, isNew: Bool) throws -> PlannedFile
    /// Opens a planned file's bytes, when they are not its name in a local directory.
    var opensBytes: ((PlannedFile) throws -> OpenFile)? { get }
}

extension ReplicaTree {
    /// A record's status, for a file whose status no one reads (the wire sends records).
    package static func status(of record: ManifestRecord) -> FileStatus {
        FileStatus(kind: record.kind, permissions: record.permissions, owner: record.owner, group: record.group, size: record.size,
                   modified: record.modified, changed: record.changed, inode: record.inode, device: 0, linkCount: 1, deviceNumber: 0,
                   blocks: (record.size + 511) / 512)
    }
}

/// A snapshot of a sink on this machine: its tree, read in path order.
package final class LocalReplicaTree: ReplicaTree {
    package let tree: DirectoryCursor

    package init(_ root: DirectoryHandle) { tree = DirectoryCursor(root: root) }

    package func attributes(of record: ManifestRecord) throws -> [ExtendedAttribute] {
        if record.path.isRoot { return try ExtendedAttributes.read(.file(tree.root.file)) }
        let (directory, name) = try tree.parentAndName(of: record.path)
        return try ExtendedAttributes.read(.entry(directory, name))
    }

    package func plannedFile(_ record: ManifestRecord, attributes: [ExtendedAttribute], leads: Bool, isNew: Bool) throws -> PlannedFile {
        let (directory, name) = try tree.parentAndName(of: record.path)
        return PlannedFile(record: record, directory: directory, name: name, status: Self.status(of: record), attributes: attributes,
                           leads: leads, isNew: isNew, isHashed: record.content != nil && record.size > 0)
    }

    package var opensBytes: ((PlannedFile) throws -> OpenFile)? { nil }
}

/// A snapshot on a server: each read one round trip on its channel (the
/// records were spooled before, so the channel is free).
package final class RemoteReplicaTree: ReplicaTree {
    package let tree: RemoteTree
    /// Where a file's bytes wait between the two channels.
    package let scratch: DirectoryHandle

    package init(_ tree: RemoteTree) throws {
        self.tree = tree
        scratch = try DirectoryHandle.open(scratchDirectory())
    }

    package func attributes(of record: ManifestRecord) throws -> [ExtendedAttribute] {
        try tree.ask(record.path, content: false)
        try tree.sink.channel.writer.flush()
        return try tree.receive(into: nil)
    }

    package func plannedFile(_ record: ManifestRecord, attributes: [ExtendedAttribute], leads: Bool, isNew: Bool) throws -> PlannedFile {
        PlannedFile(record: record, directory: scratch, name: record.path.lastName!, status: Self.status(of: record), attributes: attributes,
                    leads: leads, isNew: isNew, isHashed: record.content != nil && record.size > 0)
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
